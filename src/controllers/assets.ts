import type { Battery, GridMeter, Phase, PvInverter } from '../edge/capabilities.js';
import { command, PHASES } from '../edge/capabilities.js';
import { fresh, read, type Snapshot } from '../edge/snapshot.js';

/** Reading the capabilities' measured channels from a snapshot, the same way in every controller. */
export const DEFAULT_MAX_AGE_MS = 3_000;

export const phasesOf = (n: 1 | 3): readonly Phase[] => (n === 3 ? PHASES : ['L1']);

/** Grid power, total or on one phase (W, import positive), when GOOD and fresh. */
export function gridPower(s: Snapshot, g: GridMeter, nowMs: number, maxAgeMs: number, phase?: Phase): { ok: true; w: number } | { ok: false; why: string } {
  const r = read(s, `${g.component}/ActivePower${phase ? `_${phase}` : ''}`, nowMs, maxAgeMs);
  return r.ok ? { ok: true, w: r.value } : { ok: false, why: r.why };
}

/** The three phase powers of the grid, or why not. */
export function gridPhases(s: Snapshot, g: GridMeter, nowMs: number, maxAgeMs: number): { ok: true; w: Record<Phase, number> } | { ok: false; why: string } {
  if (!g.perPhase) return { ok: false, why: `${g.component} is not metered per phase` };
  const w = {} as Record<Phase, number>;
  const bad: string[] = [];
  for (const p of PHASES) {
    const r = gridPower(s, g, nowMs, maxAgeMs, p);
    if (r.ok) w[p] = r.w;
    else bad.push(r.why);
  }
  return bad.length ? { ok: false, why: bad.join('; ') } : { ok: true, w };
}

/** Measured battery power (W, discharge positive), total or per phase. */
export const batteryPower = (s: Snapshot, b: Battery, nowMs: number, maxAgeMs: number, phase?: Phase): number | undefined =>
  fresh(s, `${b.component}/ActivePower${phase ? `_${phase}` : ''}`, nowMs, maxAgeMs);

/**
 * What offsets (frequency droop) added to the battery's command last cycle (W, discharge positive), total or on
 * one phase; 0 without. A symmetric battery's offset counts a share on each of its phases. A controller that
 * bounds the battery from its measured power and the grid takes this out of both (the battery without the
 * offset is `measured - offset`, the grid `grid + offset`): its bound is then on the value the classes choose,
 * to which the resolver adds the offset, and the offset is not counted twice (issue 10, the demo's droop).
 */
export function batteryOffset(s: Snapshot, b: Battery, nowMs: number, maxAgeMs: number, phase?: Phase): number {
  const of = (target: string): number => fresh(s, command.appliedOffset(target), nowMs, maxAgeMs) ?? 0;
  const phases = phasesOf(b.phases);
  if (phase !== undefined && !phases.includes(phase)) return 0;
  if (b.kind === 'battery-setpoint' && b.perPhase) {
    return phase ? of(command.batteryPower(b, phase)) : phases.reduce((n, p) => n + of(command.batteryPower(b, p)), 0);
  }
  const total = of(command.batteryPower(b));
  return phase ? total / phases.length : total;
}

/**
 * What the battery may do now (W, discharge positive): its rating, narrowed by the BMS's allowed
 * charge and discharge power when reported fresh. (The safety envelope enforces the same and more;
 * controllers plan with it so that they do not ask for what cannot happen.)
 */
export function batteryRange(s: Snapshot, b: Battery, nowMs: number, maxAgeMs: number): { minW: number; maxW: number } {
  const allowedCharge = fresh(s, `${b.component}/AllowedChargePower`, nowMs, maxAgeMs);
  const allowedDischarge = fresh(s, `${b.component}/AllowedDischargePower`, nowMs, maxAgeMs);
  return {
    minW: -Math.min(b.maxChargeW, allowedCharge ?? b.maxChargeW),
    maxW: Math.min(b.maxDischargeW, allowedDischarge ?? b.maxDischargeW),
  };
}

export const pvPower = (s: Snapshot, p: PvInverter, nowMs: number, maxAgeMs: number, phase?: Phase): number | undefined =>
  fresh(s, `${p.component}/ActivePower${phase ? `_${phase}` : ''}`, nowMs, maxAgeMs);

/** The PV's present limit as read back (W), when reported. */
export const pvLimitNow = (s: Snapshot, p: PvInverter, nowMs: number, maxAgeMs: number, phase?: Phase): number | undefined =>
  fresh(s, `${p.component}/ActivePowerLimit${phase ? `_${phase}` : ''}`, nowMs, maxAgeMs);

/**
 * Each phase's share of PV production, as measured (a symmetric limit scales every phase's output by the
 * same factor, so a phase carrying 60 % of the PV moves by 60 % of a cut, not by a third of it). A third
 * each when production per phase is not measured, or too small to say (under 100 W); never under 5 %.
 */
export function pvPhaseShares(s: Snapshot, p: PvInverter, nowMs: number, maxAgeMs: number): Record<Phase, number> {
  const w = PHASES.map((ph) => pvPower(s, p, nowMs, maxAgeMs, ph));
  const total = w.reduce<number>((n, x) => n + Math.max(0, x ?? 0), 0);
  const even = { L1: 1 / 3, L2: 1 / 3, L3: 1 / 3 };
  if (p.phases !== 3 || w.some((x) => x === undefined) || total < 100) return even;
  const share = (i: number): number => Math.max(0.05, Math.max(0, w[i] ?? 0) / total);
  return { L1: share(0), L2: share(1), L3: share(2) };
}
