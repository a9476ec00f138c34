/**
 * Compliance with the utility's limits, pure: fed every evaluation of the schedule (the limits in
 * force with their source) and the flows measured at that moment, it counts per quantity and per
 * local day the seconds within the limit and above it, the energy above it, the largest excess and
 * when, and for the last event of each quantity how long the site took from the event's start to the
 * limit being met.
 *
 * - Above means above the limit by more than the measurement accuracy CSIP-AUS allows, the lower of
 *   4 % of the limit or 100 W; the excess (W, Wh) is what lies above the limit itself.
 * - Each interval between two samples is counted with the earlier sample (what was in force and
 *   measured during it), on the earlier sample's day. An interval longer than `maxGapMs` (the process
 *   stalled or was stopped) is not counted: nothing is known about it.
 * - A quantity without a measurement (no such asset, or a stale value) counts as unmeasured.
 */
import { siteLoadW } from './site-load.js';

export const COMPLIANCE_QUANTITIES = ['export', 'import', 'generation', 'load'] as const;
export type ComplianceQuantity = (typeof COMPLIANCE_QUANTITIES)[number];

/** The CSIP-AUS limit each figure is about. */
export const LIMIT_OF: Readonly<Record<ComplianceQuantity, 'opModExpLimW' | 'opModImpLimW' | 'opModGenLimW' | 'opModLoadLimW'>> = {
  export: 'opModExpLimW',
  import: 'opModImpLimW',
  generation: 'opModGenLimW',
  load: 'opModLoadLimW',
};

/** CSIP-AUS measurement accuracy: the lower of 4 % of the limit or 100 W. */
export const toleranceW = (limitW: number): number => Math.min(0.04 * limitW, 100);

/** One quantity's limit at a sample, and the event that set it (null for a default or the fallback). */
export interface LimitInForce {
  readonly limitW: number;
  readonly event: { readonly mRID: string; readonly programMRID: string; readonly startMs: number } | null;
}

export interface Sample {
  readonly at: number;
  /** The site's local calendar day of `at` ('YYYY-MM-DD'). */
  readonly day: string;
  readonly limits: Readonly<Partial<Record<ComplianceQuantity, LimitInForce>>>;
  /** Measured W per quantity (>= 0), null when unknown. */
  readonly measured: Readonly<Record<ComplianceQuantity, number | null>>;
}

export interface DayFigures {
  readonly withinS: number;
  readonly aboveS: number;
  readonly unmeasuredS: number;
  readonly excessWh: number;
  readonly maxExcessW: number;
  readonly maxExcessAt: number | null;
}

export interface LastEvent {
  readonly eventMRID: string;
  readonly programMRID: string;
  readonly limitW: number;
  /** When the event came into force at the site (its start, or the sample before if seen late). */
  readonly startMs: number;
  /** The first sample at which the measured flow was within the limit; null while not yet. */
  readonly metAt: number | null;
}

export interface ComplianceState {
  /** Per local day, per quantity with a limit in force on that day. */
  readonly days: Readonly<Record<string, Readonly<Partial<Record<ComplianceQuantity, DayFigures>>>>>;
  readonly lastEvent: Readonly<Partial<Record<ComplianceQuantity, LastEvent>>>;
  readonly previous: Sample | null;
}

export const EMPTY_COMPLIANCE: ComplianceState = { days: {}, lastEvent: {}, previous: null };

export const ZERO_DAY: DayFigures = { withinS: 0, aboveS: 0, unmeasuredS: 0, excessWh: 0, maxExcessW: 0, maxExcessAt: null };

/** Whether `measuredW` is within `limitW` within the accuracy. */
export const within = (measuredW: number, limitW: number): boolean => measuredW <= limitW + toleranceW(limitW);

function account(d: DayFigures, limitW: number, measured: number | null, at: number, dtMs: number): DayFigures {
  const s = dtMs / 1000;
  if (measured === null) return { ...d, unmeasuredS: d.unmeasuredS + s };
  if (within(measured, limitW)) return { ...d, withinS: d.withinS + s };
  const excess = measured - limitW;
  const larger = excess > d.maxExcessW;
  return {
    ...d,
    aboveS: d.aboveS + s,
    excessWh: d.excessWh + (excess * dtMs) / 3_600_000,
    maxExcessW: larger ? excess : d.maxExcessW,
    maxExcessAt: larger ? at : d.maxExcessAt,
  };
}

function followEvent(
  last: LastEvent | undefined,
  l: LimitInForce | undefined,
  measured: number | null,
  at: number,
  prevAt: number | null,
): LastEvent | undefined {
  if (!l?.event) return last;
  let e = last;
  if (e?.eventMRID !== l.event.mRID) {
    // Seen late (the event started before the previous sample): it came into force after that sample.
    const startMs = prevAt === null ? at : Math.min(at, Math.max(l.event.startMs, prevAt));
    e = { eventMRID: l.event.mRID, programMRID: l.event.programMRID, limitW: l.limitW, startMs, metAt: null };
  }
  if (e.metAt === null && measured !== null && within(measured, l.limitW)) e = { ...e, metAt: at };
  return e;
}

/** The state after one more sample. */
export function observe(st: ComplianceState, s: Sample, maxGapMs: number): ComplianceState {
  const p = st.previous;
  let days = st.days;
  if (p && s.at > p.at && s.at - p.at <= maxGapMs) {
    const dt = s.at - p.at;
    const day = { ...(days[p.day] ?? {}) };
    for (const q of COMPLIANCE_QUANTITIES) {
      const l = p.limits[q];
      if (l) day[q] = account(day[q] ?? ZERO_DAY, l.limitW, p.measured[q], p.at, dt);
    }
    days = { ...days, [p.day]: day };
  }
  const lastEvent: Partial<Record<ComplianceQuantity, LastEvent>> = {};
  for (const q of COMPLIANCE_QUANTITIES) {
    const e = followEvent(st.lastEvent[q], s.limits[q], s.measured[q], s.at, p?.at ?? null);
    if (e) lastEvent[q] = e;
  }
  return { days, lastEvent, previous: s };
}

/** Keeps the newest `keep` days. */
export function pruneDays(st: ComplianceState, keep: number): ComplianceState {
  const names = Object.keys(st.days).sort();
  if (names.length <= keep) return st;
  const days: Record<string, Partial<Record<ComplianceQuantity, DayFigures>>> = {};
  for (const d of names.slice(-keep)) days[d] = st.days[d] ?? {};
  return { ...st, days };
}

/** The sum of several days' figures (the largest excess is the largest of them). */
export function sumDays(days: readonly DayFigures[]): DayFigures {
  return days.reduce<DayFigures>((a, d) => {
    const larger = d.maxExcessW > a.maxExcessW;
    return {
      withinS: a.withinS + d.withinS,
      aboveS: a.aboveS + d.aboveS,
      unmeasuredS: a.unmeasuredS + d.unmeasuredS,
      excessWh: a.excessWh + d.excessWh,
      maxExcessW: larger ? d.maxExcessW : a.maxExcessW,
      maxExcessAt: larger ? d.maxExcessAt : a.maxExcessAt,
    };
  }, ZERO_DAY);
}

/**
 * The flows each limit is about, from the grid meter, PV and battery powers (docs/sign-conventions.md;
 * null when unknown): export and import at the grid meter; generation is PV production plus battery
 * discharge; load is the site's consumption as the utility-limits controller bounds it (site-load.ts:
 * its loads plus battery charging), so it needs every one of the three.
 */
export function measureFlows(
  gridW: number | null,
  pvW: readonly (number | null)[],
  batteryW: readonly (number | null)[],
): Record<ComplianceQuantity, number | null> {
  const known = (xs: readonly (number | null)[]): xs is number[] => xs.every((x) => x !== null);
  const pv = known(pvW) ? pvW : null;
  const bat = known(batteryW) ? batteryW : null;
  const generation = pvW.length + batteryW.length > 0 && pv && bat ? sum(pv.map((p) => Math.max(0, p))) + sum(bat.map((b) => Math.max(0, b))) : null;
  return {
    export: gridW === null ? null : Math.max(0, -gridW),
    import: gridW === null ? null : Math.max(0, gridW),
    generation,
    load: gridW === null || !pv || !bat ? null : Math.max(0, siteLoadW(gridW, pv, bat)),
  };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
