import { command, type Battery, type GridMeter, type Phase } from '../edge/capabilities.js';
import { failed, fmtW, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { batteryPower, batteryRange, DEFAULT_MAX_AGE_MS, gridPhases, gridPower, phasesOf } from './assets.js';
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

/**
 * The loop's state for the total; with a per-phase battery and a per-phase grid meter, each phase runs its
 * own loop (`phases`) and the total fields sum them (for the status line).
 */
export interface SelfConsumptionState extends LoopState {
  readonly phases?: Readonly<Record<Phase, LoopState>>;
}
export const SELF_CONSUMPTION_START: SelfConsumptionState = LOOP_START;

const PHASES_TEXT = (w: Readonly<Record<Phase, number>>): string => `L1 ${fmtW(w.L1)}, L2 ${fmtW(w.L2)}, L3 ${fmtW(w.L3)}`;

/**
 * What an offset (frequency droop) added to this command last cycle (W): taken out of the grid error and of
 * the measured battery power, so the loop sees only its own part and its integral never cancels the droop.
 */
const droopOf = (s: Snapshot, target: string, nowMs: number, maxAge: number): number => fresh(s, command.appliedOffset(target), nowMs, maxAge) ?? 0;

export function selfConsumption(s: Snapshot, cfg: SelfConsumptionConfig, st: SelfConsumptionState, nowMs: number): ControllerResult<SelfConsumptionState> {
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const target = cfg.targetW ?? 0;
  const g = gridPower(s, cfg.grid, nowMs, maxAge);
  // No grid reading: propose nothing and forget the loop; the safety envelope sends the battery idle.
  if (!g.ok) return failed(LOOP_START, `no usable grid power (${g.why}); battery left to the safe state`);
  const range = batteryRange(s, cfg.battery, nowMs, maxAge);
  const criticality = cfg.criticality ?? 'optimisation';
  const loop = { ...DEFAULT_LOOP, ...cfg.loop };
  const b = cfg.battery;
  // A battery that takes a setpoint per phase zeroes each phase's own grid (where the grid is metered per
  // phase): an equal split of the total would leave one phase importing while the others are held at zero
  // export (issue 10). Each phase has a third of the battery's range, ramp and integral.
  const byPhase = b.kind === 'battery-setpoint' && b.perPhase && b.phases === 3 ? gridPhases(s, cfg.grid, nowMs, maxAge) : undefined;
  if (byPhase?.ok) {
    const n = b.phases;
    const phaseLoop = { ...loop, rampWPerS: loop.rampWPerS / n, integralLimitW: loop.integralLimitW / n };
    const states = {} as Record<Phase, LoopState>;
    const proposals: Proposal[] = [];
    const hows: string[] = [];
    let total = 0;
    let integral = 0;
    for (const p of phasesOf(n)) {
      const measured = batteryPower(s, b, nowMs, maxAge, p);
      const off = droopOf(s, command.batteryPower(b, p), nowMs, maxAge);
      const out = loopStep(
        { errorW: byPhase.w[p] - target / n + off, measuredW: measured === undefined ? undefined : measured - off, minW: range.minW / n, maxW: range.maxW / n },
        phaseLoop,
        st.phases?.[p] ?? LOOP_START,
        nowMs,
      );
      states[p] = out.state;
      total += out.cmdW;
      integral += out.state.integralW;
      proposals.push({
        kind: 'target',
        target: command.batteryPower(b, p),
        value: out.cmdW,
        criticality,
        source: cfg.id,
        why: `self-consumption: ${p} grid ${fmtW(byPhase.w[p])}, target ${fmtW(target / n)}`,
      });
      hows.push(`${p} ${fmtW(out.cmdW)} (${out.how}${measured === undefined ? '; not measured, last command used' : ''})`);
    }
    const why = `self-consumption per phase: grid ${PHASES_TEXT(byPhase.w)}, target ${fmtW(target)}`;
    return ok(proposals, { lastCmdW: total, integralW: integral, lastMs: nowMs, phases: states }, `${why} -> battery ${fmtW(total)}: ${hows.join('; ')}`);
  }
  const measured = batteryPower(s, b, nowMs, maxAge);
  const off =
    b.kind === 'battery-setpoint' && b.perPhase
      ? phasesOf(b.phases).reduce((n, p) => n + droopOf(s, command.batteryPower(b, p), nowMs, maxAge), 0)
      : droopOf(s, command.batteryPower(b), nowMs, maxAge);
  // Coming back from per-phase loops: the total loop starts from their sum, without their per-phase states.
  const out = loopStep(
    { errorW: g.w - target + off, measuredW: measured === undefined ? undefined : measured - off, minW: range.minW, maxW: range.maxW },
    loop,
    { lastCmdW: st.lastCmdW, integralW: st.integralW, lastMs: st.lastMs, lastChangeMs: st.lastChangeMs ?? null },
    nowMs,
  );
  const why = `self-consumption: grid ${fmtW(g.w)}, target ${fmtW(target)}`;
  const proposals: Proposal[] =
    b.kind === 'battery-setpoint' && b.perPhase
      ? phasesOf(b.phases).map((p) => ({ kind: 'target', target: command.batteryPower(b, p), value: out.cmdW / b.phases, criticality, source: cfg.id, why }))
      : [{ kind: 'target', target: command.batteryPower(b), value: out.cmdW, criticality, source: cfg.id, why }];
  return ok(
    proposals,
    out.state,
    `${why} -> battery ${fmtW(out.cmdW)} (${out.how}${measured === undefined ? '; battery power not measured, last command used' : ''})`,
  );
}
