import { command, type Battery } from '../edge/capabilities.js';
import { failed, fmtW, idle, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import type { Snapshot } from '../edge/snapshot.js';
import { phasesOf } from './assets.js';

/**
 * External control (docs/ems-modes.md): an external system (an aggregator, the API) sends a schedule of
 * active and reactive power setpoints; the entry in force is proposed as a target. Entries must not
 * overlap (a schedule that says two things at once is refused as a whole, with the entries named).
 */
export interface ScheduleEntry {
  readonly fromMs: number;
  readonly toMs: number;
  /** W, discharge positive. */
  readonly activeW: number;
  /** var, positive = inductive (IEEE 1459 load convention, docs/sign-conventions.md). */
  readonly reactiveVar?: number;
}

export interface ExternalControlConfig {
  readonly id: string;
  readonly battery: Battery;
  readonly schedule: readonly ScheduleEntry[];
  readonly criticality?: Criticality;
}
export type ExternalControlState = Record<string, never>;
export const EXTERNAL_START: ExternalControlState = {};

export function scheduleProblems(entries: readonly ScheduleEntry[]): string[] {
  const out: string[] = [];
  entries.forEach((e, i) => {
    if (!(e.toMs > e.fromMs)) out.push(`entry ${i}: ends before it starts`);
    if (!Number.isFinite(e.activeW) || (e.reactiveVar !== undefined && !Number.isFinite(e.reactiveVar))) out.push(`entry ${i}: setpoint is not a number`);
  });
  const sorted = entries.map((e, i) => ({ e, i })).sort((a, b) => a.e.fromMs - b.e.fromMs);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1];
    const b = sorted[k];
    if (a && b && b.e.fromMs < a.e.toMs) out.push(`entries ${a.i} and ${b.i} overlap`);
  }
  return out;
}

export function externalControl(_s: Snapshot, cfg: ExternalControlConfig, st: ExternalControlState, nowMs: number): ControllerResult<ExternalControlState> {
  const problems = scheduleProblems(cfg.schedule);
  if (problems.length) return failed(st, `schedule refused: ${problems.join('; ')}`);
  const e = cfg.schedule.find((x) => x.fromMs <= nowMs && nowMs < x.toMs);
  if (!e) {
    const next = cfg.schedule.filter((x) => x.fromMs > nowMs).sort((a, b) => a.fromMs - b.fromMs)[0];
    return idle(st, next ? `no setpoint now; next at ${new Date(next.fromMs).toISOString()}` : 'the schedule has no current or future entry');
  }
  const b = cfg.battery;
  const criticality = cfg.criticality ?? 'business';
  const why = `external schedule: P ${fmtW(e.activeW)}${e.reactiveVar !== undefined ? `, Q ${Math.round(e.reactiveVar)} var` : ''} until ${new Date(e.toMs).toISOString()}`;
  const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
  const proposals: Proposal[] = (perPhase ? phasesOf(b.phases) : [undefined]).map((p) => ({
    kind: 'target',
    target: command.batteryPower(b, p),
    value: perPhase ? e.activeW / b.phases : e.activeW,
    criticality,
    source: cfg.id,
    why,
  }));
  if (e.reactiveVar !== undefined)
    proposals.push({ kind: 'target', target: command.batteryReactive(b), value: e.reactiveVar, criticality, source: cfg.id, why });
  return ok(proposals, st, why);
}
