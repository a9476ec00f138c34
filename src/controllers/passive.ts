import { idle, type ControllerResult } from '../edge/proposal.js';
import type { Snapshot } from '../edge/snapshot.js';

/** Passive (docs/ems-modes.md): monitor only. It proposes nothing and says so. */
export interface PassiveConfig {
  readonly id: string;
}
export type PassiveState = Record<string, never>;
export const PASSIVE_START: PassiveState = {};

export function passive(s: Snapshot, _cfg: PassiveConfig, st: PassiveState, _nowMs: number): ControllerResult<PassiveState> {
  return idle(st, `passive: monitoring only (${s.channels.size} channels in the snapshot), no commands`);
}
