import { command, type Battery, type PvInverter } from '../edge/capabilities.js';
import { failed, fmtW, idle, ok, type ControllerResult, type Criticality, type Proposal } from '../edge/proposal.js';
import { fresh, type Snapshot } from '../edge/snapshot.js';
import { batteryPower, batteryRange, DEFAULT_MAX_AGE_MS, phasesOf, pvPower } from './assets.js';

/**
 * Frequency droop (docs/ems-modes.md, "Frequency droop": configurable thresholds f1, f2, f3, f4, over-
 * and under-frequency response, power proportional to the deviation). The requirements name the
 * thresholds but give no values; the defaults are the Nordic FCR-D bands (ENTSO-E Nordic FCR requirements):
 * full discharge at or below f1 = 49.5 Hz, nothing between f2 = 49.9 Hz and f3 = 50.1 Hz, full
 * charge at or above f4 = 50.5 Hz, linear in between.
 *
 *   P(f) = +Pmax                     f <= f1
 *        = +Pmax (f2 - f)/(f2 - f1)  f1 < f < f2
 *        = 0                         f2 <= f <= f3
 *        = -Pmax (f - f3)/(f4 - f3)  f3 < f < f4
 *        = -Pmax                     f >= f4
 *
 * The response is an offset (proposal.ts): it is ADDED to whatever the other controllers decided
 * (self-consumption, peak shaving, a schedule), not a replacement, and the sum stays within the bounds of
 * its class and the more critical ones, the safety envelope last (SoC, BMS and power limits win). Self-
 * consumption takes the applied offset out of its error (`command.appliedOffset`), so it neither fights
 * nor integrates the response away. Over-frequency: what the battery cannot charge more (its headroom
 * from the measured power less the applied offset) is taken from PV, as a bound on the PV limit when `pv`
 * is given; the curtailment is integrated from cycle to cycle (the state) until the battery takes the rest.
 * The 5-minute moving average of AEM is not computed.
 */
export interface FrequencyDroopConfig {
  readonly id: string;
  readonly battery: Battery;
  /** PV curtailed for the over-frequency response the battery cannot take. */
  readonly pv?: PvInverter;
  readonly f1?: number;
  readonly f2?: number;
  readonly f3?: number;
  readonly f4?: number;
  /** Response at full deviation (W). */
  readonly maxResponseW: number;
  readonly frequencyChannel?: string;
  readonly criticality?: Criticality;
  readonly maxAgeMs?: number;
}
/** Below this the grid meter sees no utility at all (0 Hz while it is down), not an under-frequency. */
const NO_GRID_BELOW_HZ = 40;

/** The PV curtailment the response holds now (W), 0 when none. */
export interface FrequencyDroopState {
  readonly curtailW: number;
}
export const DROOP_START: FrequencyDroopState = { curtailW: 0 };

/** The share of a further cut made each cycle while PV is already curtailed. */
const FURTHER_CUT_GAIN = 0.5;

export function droopPower(f: number, c: { f1: number; f2: number; f3: number; f4: number; maxW: number }): number {
  if (f <= c.f1) return c.maxW;
  if (f < c.f2) return (c.maxW * (c.f2 - f)) / (c.f2 - c.f1);
  if (f <= c.f3) return 0;
  if (f < c.f4) return (-c.maxW * (f - c.f3)) / (c.f4 - c.f3);
  return -c.maxW;
}

export function frequencyDroop(s: Snapshot, cfg: FrequencyDroopConfig, st: FrequencyDroopState, nowMs: number): ControllerResult<FrequencyDroopState> {
  const th = { f1: cfg.f1 ?? 49.5, f2: cfg.f2 ?? 49.9, f3: cfg.f3 ?? 50.1, f4: cfg.f4 ?? 50.5, maxW: cfg.maxResponseW };
  if (!(th.f1 < th.f2 && th.f2 <= th.f3 && th.f3 < th.f4))
    return failed(st, `thresholds must satisfy f1 < f2 <= f3 < f4; found ${th.f1}, ${th.f2}, ${th.f3}, ${th.f4}`);
  const ch = cfg.frequencyChannel ?? 'grid/Frequency';
  const f = fresh(s, ch, nowMs, cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  if (f === undefined) return failed(DROOP_START, `${ch} not usable; no frequency response`);
  // A meter on the grid side reads 0 Hz while the utility is down: no grid to support (the island's inverter forms its own).
  if (f < NO_GRID_BELOW_HZ) return idle(DROOP_START, `no grid frequency (${f.toFixed(3)} Hz at ${ch}): no response while the grid is down`);
  const p = droopPower(f, th);
  if (p === 0) return idle(DROOP_START, `${f.toFixed(3)} Hz is inside the ${th.f2}-${th.f3} Hz band`);
  const b = cfg.battery;
  const maxAge = cfg.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const criticality = cfg.criticality ?? 'supply-quality';
  const perPhase = b.kind === 'battery-setpoint' && b.perPhase;
  const why = `frequency ${f.toFixed(3)} Hz: ${p > 0 ? 'under' : 'over'}-frequency response ${fmtW(p)}`;
  const proposals: Proposal[] = (perPhase ? phasesOf(b.phases) : [undefined]).map((ph) => ({
    kind: 'offset',
    target: command.batteryPower(b, ph),
    value: perPhase ? p / b.phases : p,
    criticality,
    source: cfg.id,
    why,
  }));
  let detail = `${why} added to the battery`;
  const pv = cfg.pv;
  const pvNow = pv ? pvPower(s, pv, nowMs, maxAge) : undefined;
  const bat = batteryPower(s, b, nowMs, maxAge);
  if (p >= 0 || !pv || pvNow === undefined || bat === undefined) return ok(proposals, DROOP_START, detail);
  // Over-frequency: what the battery cannot charge more comes off PV. The headroom is counted from what the
  // battery would do without this response (measured minus the offset the cycle applied last), and the
  // curtailment is integrated, so that the grid-following loops' answer to the curtailment (they charge
  // less as PV falls, which frees headroom) settles it instead of ratcheting PV down cycle by cycle.
  const targets = perPhase ? phasesOf(b.phases).map((ph) => command.batteryPower(b, ph)) : [command.batteryPower(b)];
  const applied = targets.reduce((x, t) => x + (fresh(s, command.appliedOffset(t), nowMs, maxAge) ?? 0), 0);
  // How far the battery still lags its last command: a further cut waits for that much (it is coming anyway).
  const commanded = targets.map((t) => fresh(s, command.commanded(t), nowMs, maxAge));
  const known = commanded.filter((c): c is number => c !== undefined);
  const lag = known.length === targets.length ? Math.abs(known.reduce((x, c) => x + c, 0) - bat) : 0;
  const headroom = Math.max(0, bat - applied - batteryRange(s, b, nowMs, maxAge).minW);
  const available = pvNow + st.curtailW; // PV held at our limit produces what the sun gives less our curtailment
  // The first curtailment and any release take the whole error; a further cut while curtailing takes half of
  // what the battery's lag behind its last command does not explain, since the battery's own loop answers in
  // the same cycle and full steps let the two chase each other (seen with a 600 ms inverter: PV cut 340 W more
  // than needed, the battery short of its limit).
  const error = -p - headroom;
  const change = error > 0 && st.curtailW > 0 ? FURTHER_CUT_GAIN * Math.max(0, error - lag) : error;
  const curtailW = Math.min(available, Math.max(0, st.curtailW + change));
  if (curtailW <= 0.5) return ok(proposals, DROOP_START, detail);
  const max = Math.max(0, available - curtailW);
  proposals.push({
    kind: 'bound',
    target: command.pvLimit(pv),
    min: 0,
    max,
    criticality,
    source: cfg.id,
    why: `${why}: battery headroom ${fmtW(headroom)}, PV curtailed by ${fmtW(curtailW)}`,
  });
  detail += `; PV curtailed by ${fmtW(curtailW)} (battery headroom ${fmtW(headroom)})`;
  return ok(proposals, { curtailW }, detail);
}
