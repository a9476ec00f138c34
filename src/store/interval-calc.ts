import { accumulateCounter, type CounterOptions } from './counter.js';

/** Intervals are aligned to multiples of 15 min since the epoch: local quarter hours in every real time zone. */
export const INTERVAL_MS = 900_000;
export const DEFAULT_NEAR_MS = 300_000;

/** What interval building needs from one poll; NaN = not delivered in that poll. */
export interface IntervalSample {
  readonly ts: number;
  readonly activePowerW: number;
  readonly voltagesV: readonly number[];
  readonly energyImportKWh: number;
  readonly energyExportKWh: number;
}

export interface IntervalRow {
  readonly startMs: number;
  readonly energyImportKWh: number | null;
  readonly energyExportKWh: number | null;
  readonly powerAvgW: number | null;
  readonly powerMinW: number | null;
  readonly powerMaxW: number | null;
  readonly voltageMinV: number | null;
  readonly voltageMaxV: number | null;
  /** Polls inside the interval; 0 for an interval inside a gap (energy is then 0 or the gap's catch-up). */
  readonly samples: number;
}

export interface IntervalCalcOptions {
  /** A boundary is interpolated only when readings lie within this distance on both sides of it. */
  readonly nearMs?: number;
  readonly counter?: CounterOptions;
}

export const alignInterval = (ms: number): number => Math.floor(ms / INTERVAL_MS) * INTERVAL_MS;

/** A counter as a running total (resets and rollovers removed) at the times it was read. */
interface Curve {
  readonly t: readonly number[];
  readonly total: readonly number[];
}

function curveOf(samples: readonly IntervalSample[], pick: (s: IntervalSample) => number, opts: CounterOptions): Curve {
  const read = samples.filter((s) => Number.isFinite(pick(s)));
  return { t: read.map((s) => s.ts), total: accumulateCounter(read.map(pick), opts) };
}

/** Number of readings strictly before t (with `orAt`, at or before t). */
function countBefore(times: readonly number[], t: number, orAt = false): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const tm = times[mid] as number;
    if (tm < t || (orAt && tm === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The running total at boundary b: interpolated when readings within nearMs lie on both sides, else
 * the nearest reading. Readings after b count only within nearMs, so the value is final once
 * nearMs has passed and an interval never changes when built later or rebuilt.
 */
function totalAt(c: Curve, b: number, nearMs: number): number | undefined {
  const i = countBefore(c.t, b, true) - 1;
  const tPrev = c.t[i];
  const tNext = c.t[i + 1];
  const prev = tPrev !== undefined ? (c.total[i] as number) : undefined;
  const next = tNext !== undefined && tNext - b <= nearMs ? (c.total[i + 1] as number) : undefined;
  if (tPrev === b) return prev;
  if (prev !== undefined && next !== undefined && b - (tPrev as number) <= nearMs) {
    return prev + ((next - prev) * (b - (tPrev as number))) / ((tNext as number) - (tPrev as number));
  }
  return next ?? prev;
}

function energyIn(c: Curve, start: number, end: number, nearMs: number): number | null {
  // When the counter's history begins inside this interval, count from its first reading.
  const i = countBefore(c.t, start);
  const firstInside = (c.t[i] ?? Infinity) < end ? c.total[i] : undefined;
  const a = totalAt(c, start, nearMs) ?? firstInside;
  const e = totalAt(c, end, nearMs);
  return a === undefined || e === undefined ? null : round(Math.max(0, e - a), 1e6);
}

const round = (x: number, per: number): number => Math.round(x * per) / per;

interface Stats {
  n: number;
  pSum: number;
  pN: number;
  pMin: number;
  pMax: number;
  vMin: number;
  vMax: number;
}

function statsOf(samples: readonly IntervalSample[]): Stats {
  const s: Stats = { n: samples.length, pSum: 0, pN: 0, pMin: Infinity, pMax: -Infinity, vMin: Infinity, vMax: -Infinity };
  for (const x of samples) {
    if (Number.isFinite(x.activePowerW)) {
      s.pSum += x.activePowerW;
      s.pN++;
      s.pMin = Math.min(s.pMin, x.activePowerW);
      s.pMax = Math.max(s.pMax, x.activePowerW);
    }
    for (const v of x.voltagesV) {
      if (!Number.isFinite(v)) continue;
      s.vMin = Math.min(s.vMin, v);
      s.vMax = Math.max(s.vMax, v);
    }
  }
  return s;
}

/** Stored to the mW / mV (finer than any meter): interval-table.ts reads them back as exact integers. */
const milli = (x: number): number | null => (Number.isFinite(x) ? round(x, 1e3) : null);

/**
 * Intervals starting in [fromMs, toMs) from time-ordered samples. The samples must include the
 * last counter reading before fromMs (however old) and those up to toMs + nearMs. Energy is the
 * difference of the running totals at the two boundaries, so consecutive intervals add up exactly
 * to the counter's advance, gaps included.
 */
export function computeIntervals(
  samples: readonly IntervalSample[],
  fromMs: number,
  toMs: number,
  opts: IntervalCalcOptions = {},
): IntervalRow[] {
  const nearMs = opts.nearMs ?? DEFAULT_NEAR_MS;
  const counter = opts.counter ?? {};
  const imp = curveOf(samples, (s) => s.energyImportKWh, counter);
  const exp = curveOf(samples, (s) => s.energyExportKWh, counter);
  const times = samples.map((s) => s.ts);
  const rows: IntervalRow[] = [];
  for (let start = alignInterval(fromMs); start < toMs; start += INTERVAL_MS) {
    const end = start + INTERVAL_MS;
    const s = statsOf(samples.slice(countBefore(times, start), countBefore(times, end)));
    rows.push({
      startMs: start,
      energyImportKWh: energyIn(imp, start, end, nearMs),
      energyExportKWh: energyIn(exp, start, end, nearMs),
      powerAvgW: s.pN > 0 ? milli(s.pSum / s.pN) : null,
      powerMinW: milli(s.pMin),
      powerMaxW: milli(s.pMax),
      voltageMinV: milli(s.vMin),
      voltageMaxV: milli(s.vMax),
      samples: s.n,
    });
  }
  return rows;
}
