/**
 * The control law shared by the grid-following controllers (self-consumption, and peak shaving's
 * and zero export's absorb/room arithmetic): feed-forward from measured power, a small integral
 * term with anti-windup, a deadband and a ramp limit. Pure and discrete: one call per cycle.
 *
 * Why feed-forward from the measured asset power: the grid reads `grid = load - asset - others`, so
 * the asset power that brings the grid to its target is `asset_measured + (grid - target)` whatever
 * the inverter's lag. A loop that adds the error to its *previous command* instead counts the part
 * of the last step the inverter has not yet delivered twice, which is where the overshoot and the
 * 8-10 s hunting of integrating ESS loops come from (issue 10). The integral term only removes what
 * feed-forward cannot see (an inverter that delivers 98 % of its setpoint, meter offsets); it
 * integrates only small errors (the integral zone: a step of load or PV is feed-forward's job),
 * only while the inverter has settled on the last command and only while the output is not
 * saturated (conditional integration), so it never winds up during a transient.
 *
 * The ramp counts from the last cycle, or from the last change of the command by more than the deadband
 * when that is longer ago (at most one second back): a cycle that a step starts early
 * (src/edge/step-trigger.ts), a fraction of a period after a cycle that held or trimmed the command, may
 * move it by a second's ramp, not by that fraction. Over any second the command thus moves at most twice
 * the ramp (plus trims).
 */
export interface LoopConfig {
  /** No new command while the grid is within this of its target (W): no flicker on meter noise. */
  readonly deadbandW: number;
  /** Largest change of the command per second (W/s). */
  readonly rampWPerS: number;
  /** Integral gain per cycle (fraction of the error added each settled cycle). */
  readonly ki: number;
  /** The inverter counts as settled when its measured power is within this of the last command (W). */
  readonly settledTolW: number;
  /** The integral never holds more than this (W). */
  readonly integralLimitW: number;
  /** Only errors smaller than this are integrated (W). */
  readonly integralZoneW: number;
}

export const DEFAULT_LOOP: LoopConfig = { deadbandW: 25, rampWPerS: 10_000, ki: 0.3, settledTolW: 100, integralLimitW: 2_000, integralZoneW: 300 };

export interface LoopState {
  readonly lastCmdW: number | null;
  readonly integralW: number;
  readonly lastMs: number | null;
  /** When the command last changed (ms); none: counted from `lastMs`. */
  readonly lastChangeMs?: number | null;
}

export const LOOP_START: LoopState = { lastCmdW: null, integralW: 0, lastMs: null };

export interface LoopInput {
  /** Measured grid minus its target (W): positive means the asset must produce (discharge) more. */
  readonly errorW: number;
  /** The asset's measured output (W, production/discharge positive), when GOOD and fresh. */
  readonly measuredW: number | undefined;
  /** What the asset may do now (W). */
  readonly minW: number;
  readonly maxW: number;
}

export interface LoopOutput {
  readonly cmdW: number;
  readonly state: LoopState;
  /** How the command came about, for the controller's status line. */
  readonly how: string;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

export function loopStep(input: LoopInput, cfg: LoopConfig, st: LoopState, nowMs: number): LoopOutput {
  const sinceChangeMs = st.lastChangeMs === undefined || st.lastChangeMs === null ? 0 : Math.min(1000, nowMs - st.lastChangeMs);
  const dtS = st.lastMs === null ? 1 : Math.max(0.001, (nowMs - st.lastMs) / 1000, sinceChangeMs / 1000);
  const last = st.lastCmdW;
  // Without a measurement of the asset, the last command is the best estimate (no more aggressive than before).
  const base = input.measuredW ?? last ?? 0;
  const settled = input.measuredW !== undefined && last !== null && Math.abs(input.measuredW - last) <= cfg.settledTolW;
  const inBand = Math.abs(input.errorW) <= cfg.deadbandW;
  const inZone = Math.abs(input.errorW) <= cfg.integralZoneW;
  let integral = st.integralW;
  const unclamped = base + input.errorW + integral;
  const saturatedHigh = unclamped >= input.maxW && input.errorW > 0;
  const saturatedLow = unclamped <= input.minW && input.errorW < 0;
  if (settled && inZone && !inBand && !saturatedHigh && !saturatedLow)
    integral = clamp(integral + cfg.ki * input.errorW, -cfg.integralLimitW, cfg.integralLimitW);
  let cmd = clamp(base + input.errorW + integral, input.minW, input.maxW);
  let how = `feed-forward ${Math.round(base)} W + error ${Math.round(input.errorW)} W + integral ${Math.round(integral)} W`;
  if (last !== null && inBand && last >= input.minW && last <= input.maxW) {
    cmd = last;
    how += `; within the ${cfg.deadbandW} W deadband, held`;
  } else if (last !== null) {
    const step = cfg.rampWPerS * dtS;
    const ramped = clamp(cmd, last - step, last + step);
    if (ramped !== cmd) how += `; ramp-limited to ${Math.round(ramped)} W`;
    cmd = clamp(ramped, input.minW, input.maxW);
  }
  if (cmd === input.maxW || cmd === input.minW) how += '; at its limit';
  // Trims within the deadband (the integral, a bound following the meter) do not restart the ramp's second.
  const lastChangeMs = last !== null && Math.abs(cmd - last) <= cfg.deadbandW ? (st.lastChangeMs ?? st.lastMs) : nowMs;
  return { cmdW: cmd, state: { lastCmdW: cmd, integralW: integral, lastMs: nowMs, lastChangeMs }, how };
}
