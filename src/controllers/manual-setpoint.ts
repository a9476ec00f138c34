import { command, type Battery } from '../edge/capabilities.js';
import { fmtW, idle, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import type { Snapshot } from '../edge/snapshot.js';
import { phasesOf } from './assets.js';

/**
 * Manual setpoint (docs/ems-modes.md, "Local control"): a person sets the battery power, optionally until a
 * time. It is one controller among others, so safety and supply quality still narrow it; an
 * operator who must take the asset over uses a governance override instead.
 */
export interface ManualSetpointConfig {
  readonly id: string;
  readonly battery: Battery;
  readonly setpointW: number;
  readonly setBy: string;
  readonly untilMs?: number;
  readonly criticality?: Criticality;
}
export type ManualSetpointState = Record<string, never>;
export const MANUAL_START: ManualSetpointState = {};

export function manualSetpoint(_s: Snapshot, cfg: ManualSetpointConfig, st: ManualSetpointState, nowMs: number): ControllerResult<ManualSetpointState> {
  if (cfg.untilMs !== undefined && nowMs >= cfg.untilMs) return idle(st, `the manual setpoint by ${cfg.setBy} ended at ${new Date(cfg.untilMs).toISOString()}`);
  const b = cfg.battery;
  const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
  const why = `manual setpoint ${fmtW(cfg.setpointW)} by ${cfg.setBy}`;
  const proposals: Proposal[] = (perPhase ? phasesOf(b.phases) : [undefined]).map((p) => ({
    kind: 'target',
    target: command.batteryPower(b, p),
    value: perPhase ? cfg.setpointW / b.phases : cfg.setpointW,
    criticality: cfg.criticality ?? 'business',
    source: cfg.id,
    why,
  }));
  return ok(proposals, st, why);
}
