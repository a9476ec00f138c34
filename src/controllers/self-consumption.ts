import { command, type Battery, type GridMeter } from '../edge/capabilities.js';
import { failed, fmtW, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import type { Snapshot } from '../edge/snapshot.js';
import { batteryPower, batteryRange, DEFAULT_MAX_AGE_MS, gridPower, phasesOf } from './assets.js';
import { DEFAULT_LOOP, LOOP_START, loopStep, type LoopConfig, type LoopState } from './control-law.js';

/** Self-consumption (docs/ems-modes.md, "Max self-consumption"): the battery holds the grid at its target (0 W). */
export interface SelfConsumptionConfig {
  readonly id: string;
  readonly grid: GridMeter;
  readonly battery: Battery;
  /** Grid power to hold (W, import positive); 0 by default. */
  readonly targetW?: number;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
  readonly loop?: Partial<LoopConfig>;
}

export type SelfConsumptionState = LoopState;
export const SELF_CONSUMPTION_START: SelfConsumptionState = LOOP_START;

export function selfConsumption(s: Snapshot, cfg: SelfConsumptionConfig, st: SelfConsumptionState, nowMs: number): ControllerResult<SelfConsumptionState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const target = cfg.targetW ?? 0;
  const g = gridPower(s, cfg.grid, nowMs, maxAge);
  // No grid reading: propose nothing and forget the loop; the safety envelope sends the battery idle.
  if (!g.ok) return failed(LOOP_START, `no usable grid power (${g.why}); battery left to the safe state`);
  const range = batteryRange(s, cfg.battery, nowMs, maxAge);
  const measured = batteryPower(s, cfg.battery, nowMs, maxAge);
  const out = loopStep({ errorW: g.w - target, measuredW: measured, minW: range.minW, maxW: range.maxW }, { ...DEFAULT_LOOP, ...cfg.loop }, st, nowMs);
  const criticality = cfg.criticality ?? 'optimisation';
  const why = `self-consumption: grid ${fmtW(g.w)}, target ${fmtW(target)}`;
  const b = cfg.battery;
  const proposals: Proposal[] =
    b.kind === 'battery-setpoint' && b.perPhase
      ? phasesOf(b.phases).map((p) => ({ kind: 'target', target: command.batteryPower(b, p), value: out.cmdW / b.phases, criticality, source: cfg.id, why }))
      : [{ kind: 'target', target: command.batteryPower(b), value: out.cmdW, criticality, source: cfg.id, why }];
  return ok(proposals, out.state, `${why} -> battery ${fmtW(out.cmdW)} (${out.how}${measured === undefined ? '; battery power not measured, last command used' : ''})`);
}
