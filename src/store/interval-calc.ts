import { accumulateCounter, type CounterOptions } from './counter.js';
import { limitFinding, type Span } from './interval-limit.js';

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
  /**
   * Absent for a normal interval. 'quarantined': the counters said something impossible (a backwards
   * step, more energy than the meter can measure); the energies above are null so nothing bills or
   * sums it, and what the counters said is kept in suspect*. 'resolved': a person decided the energies.
   */
  readonly status?: 'quarantined' | 'resolved';
  readonly reason?: string;
  readonly suspectImportKWh?: number | null;
  readonly suspectExportKWh?: number | null;
}

export interface IntervalCalcOptions {
  /** A boundary is interpolated only when readings lie within this distance on both sides of it. */
  readonly nearMs?: number;
  readonly counter?: CounterOptions;
  /** The most power the meter can measure (W); more energy than this over an interval is quarantined. */
  readonly maxPowerW?: number;
}

export const alignInterval = (ms: number): number => Math.floor(ms / INTERVAL_MS) * INTERVAL_MS;

/** A counter as a running total (resets and rollovers removed) at the times it was read. */
interface Curve {
  readonly t: readonly number[];
  readonly total: readonly number[];
  /** Backwards steps that are a fault, as [time of the reading after it, value before, value after]. */
  readonly faults: readonly [number, number, number][];
}

function curveOf(samples: readonly IntervalSample[], pick: (s: IntervalSample) => number, opts: CounterOptions): Curve {
  const read = samples.filter((s) => Number.isFinite(pick(s)));
  const at: number[] = [];
  const total = accumulateCounter(read.map(pick), opts, at);
  const faults = at.map((i): [number, number, number] => [(read[i] as IntervalSample).ts, lastRef(read, pick, i), pick(read[i] as IntervalSample)]);
  return { t: read.map((s) => s.ts), total, faults };
}

/** The value the counter showed before reading i (for the message; noise steps are too small to matter). */
const lastRef = (read: readonly IntervalSample[], pick: (s: IntervalSample) => number, i: number): number => pick(read[i - 1] as IntervalSample);

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
/** The running total at b and the time it stands for (b when interpolated, else the reading's time). */
type Point = { readonly v: number; readonly t: number };

function totalAt(c: Curve, b: number, nearMs: number): Point | undefined {
  const i = countBefore(c.t, b, true) - 1;
  const tPrev = c.t[i];
  const tNext = c.t[i + 1];
  const prev = tPrev !== undefined ? (c.total[i] as number) : undefined;
  const next = tNext !== undefined && tNext - b <= nearMs ? (c.total[i + 1] as number) : undefined;
  if (tPrev === b) return { v: prev as number, t: b };
  if (prev !== undefined && next !== undefined && b - (tPrev as number) <= nearMs) {
    return { v: prev + ((next - prev) * (b - (tPrev as number))) / ((tNext as number) - (tPrev as number)), t: b };
  }
  if (next !== undefined) return { v: next, t: tNext as number };
  return prev === undefined ? undefined : { v: prev, t: tPrev as number };
}

/** Energy in [start, end) and the time it was counted over (longer than the interval after a gap). */
function energyIn(c: Curve, start: number, end: number, nearMs: number): { kWh: number | null; span: Span } {
  // When the counter's history begins inside this interval, count from its first reading.
  const i = countBefore(c.t, start);
  const firstInside = (c.t[i] ?? Infinity) < end ? { v: c.total[i] as number, t: c.t[i] as number } : undefined;
  const a = totalAt(c, start, nearMs) ?? firstInside;
  const e = totalAt(c, end, nearMs);
  if (a === undefined || e === undefined) return { kWh: null, span: { fromMs: start, toMs: end } };
  return { kWh: round(Math.max(0, e.v - a.v), 1e6), span: { fromMs: Math.min(a.t, start), toMs: Math.max(e.t, end) } };
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
export function computeIntervals(samples: readonly IntervalSample[], fromMs: number, toMs: number, opts: IntervalCalcOptions = {}): IntervalRow[] {
  const nearMs = opts.nearMs ?? DEFAULT_NEAR_MS;
  const counter = opts.counter ?? {};
  const imp = curveOf(samples, (s) => s.energyImportKWh, counter);
  const exp = curveOf(samples, (s) => s.energyExportKWh, counter);
  const times = samples.map((s) => s.ts);
  const rows: IntervalRow[] = [];
  for (let start = alignInterval(fromMs); start < toMs; start += INTERVAL_MS) {
    const end = start + INTERVAL_MS;
    const s = statsOf(samples.slice(countBefore(times, start), countBefore(times, end)));
    const ei = energyIn(imp, start, end, nearMs);
    const ee = energyIn(exp, start, end, nearMs);
    const row: IntervalRow = {
      startMs: start,
      energyImportKWh: ei.kWh,
      energyExportKWh: ee.kWh,
      powerAvgW: s.pN > 0 ? milli(s.pSum / s.pN) : null,
      powerMinW: milli(s.pMin),
      powerMaxW: milli(s.pMax),
      voltageMinV: milli(s.vMin),
      voltageMaxV: milli(s.vMax),
      samples: s.n,
    };
    const reasons = [
      ...faultsIn(imp, 'import', start, end),
      ...faultsIn(exp, 'export', start, end),
      ...limitFinding('import', ei.kWh, ei.span, opts.maxPowerW),
      ...limitFinding('export', ee.kWh, ee.span, opts.maxPowerW),
    ];
    rows.push(reasons.length === 0 ? row : quarantined(row, reasons.join('; ')));
  }
  return rows;
}

/** Never billed or summed: the energies are withheld until a person resolves the interval. */
export function quarantined(row: IntervalRow, reason: string): IntervalRow {
  return {
    ...row,
    energyImportKWh: null,
    energyExportKWh: null,
    status: 'quarantined',
    reason,
    suspectImportKWh: row.energyImportKWh,
    suspectExportKWh: row.energyExportKWh,
  };
}

function faultsIn(c: Curve, what: string, start: number, end: number): string[] {
  return c.faults
    .filter(([t]) => t >= start && t < end)
    .map(
      ([t, before, after]) =>
        `the ${what} counter stepped back from ${before.toFixed(2)} to ${after.toFixed(2)} kWh at ${new Date(t).toISOString()}; a meter replacement is never assumed`,
    );
}
