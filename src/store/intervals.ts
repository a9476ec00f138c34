import type { StoreDb } from './database.js';
import type { CounterOptions } from './counter.js';
import { readChannel, type Layout } from './codec.js';
import { layoutLookup, type ReadingRow } from './registry.js';
import { firstReadingS, lastReadingS, readingRows } from './reading-rows.js';
import { alignInterval, computeIntervals, DEFAULT_NEAR_MS, INTERVAL_MS, type IntervalSample } from './interval-calc.js';
import { insertIntervals, lastIntervalStartMs } from './interval-table.js';
import { acrossReplacements, replacementsOf, type Replacement } from './replacements.js';

export interface BuildOptions {
  /** See IntervalCalcOptions.nearMs; an interval is built only once this long has passed after its end. */
  readonly nearMs?: number;
  /** Counter behaviour per meter (e.g. its rollover maximum). */
  readonly counterFor?: (meter: string) => CounterOptions;
  /** The most power each meter can measure (W); an interval holding more energy is quarantined. */
  readonly maxPowerWFor?: (meter: string) => number | undefined;
  /**
   * Stop after about this many intervals (checked per day of one meter), so a backlog - after an
   * upgrade or a long outage - is built over several calls instead of stalling the poller for seconds.
   */
  readonly maxIntervals?: number;
}

export const DEFAULT_MAX_INTERVALS_PER_CALL = 1_000;

/** A day per transaction bounds memory and lock time when a long backlog is built after an upgrade. */
const CHUNK_MS = 96 * INTERVAL_MS;
/** How far back (in rows) to look for the last counter reading before a gap. */
const LOOKBACK_ROWS = 360;
const VOLTAGES = ['Voltage_L1', 'Voltage_L2', 'Voltage_L3'] as const;

function toSample(row: ReadingRow, layout: Layout): IntervalSample {
  return {
    ts: row.ts * 1000,
    activePowerW: readChannel(layout, row.vals, 'ActivePower', false),
    voltagesV: VOLTAGES.map((c) => readChannel(layout, row.vals, c, false)),
    energyImportKWh: readChannel(layout, row.vals, 'EnergyImport'),
    energyExportKWh: readChannel(layout, row.vals, 'EnergyExport'),
  };
}

/**
 * Builds every 15-minute interval that is final and not yet stored, for every meter. Driven only by
 * the file (the newest stored interval per meter), so it can be called after each flush and after
 * a restart. untilMs: a time up to which all readings are on disk (now, if nothing is buffered).
 * Intervals are built up to the meter's newest reading; a meter that went quiet gets its gap filled
 * (samples = 0) when it comes back. Returns the number of intervals written; when that reaches
 * opts.maxIntervals there may be more to build, and the next call continues.
 */
export function buildIntervals(db: StoreDb, untilMs: number, opts: BuildOptions = {}): number {
  const q = prepareQueries(db);
  const meters = db.prepare<[], { id: number; key: string }>('SELECT id, key FROM meters ORDER BY id').all();
  const budget = opts.maxIntervals ?? DEFAULT_MAX_INTERVALS_PER_CALL;
  // One transaction for all meters: the new rows share the recent table's last page, written once.
  return db.transaction(() => {
    let built = 0;
    for (const m of meters) {
      if (built >= budget) break;
      built += buildMeter(db, q, m, untilMs, opts, budget - built);
    }
    return built;
  })();
}

function prepareQueries(db: StoreDb) {
  // Through reading-rows.ts: the journal and the hourly chunks, decoding only what the range needs.
  return {
    lookup: layoutLookup(db),
    first: { get: (meterId: number): number | undefined => firstReadingS(db, meterId) },
    last: { get: (meterId: number): number | undefined => lastReadingS(db, meterId) },
    between: { all: (meterId: number, fromS: number, toS: number): ReadingRow[] => readingRows(db, meterId, { fromS, toS: toS + 1 }) },
    before: { all: (meterId: number, beforeS: number, limit: number): ReadingRow[] => readingRows(db, meterId, { toS: beforeS, desc: true, limit }) },
  };
}
type Queries = ReturnType<typeof prepareQueries>;

function buildMeter(db: StoreDb, q: Queries, m: { id: number; key: string }, untilMs: number, opts: BuildOptions, budget: number): number {
  const nearMs = opts.nearMs ?? DEFAULT_NEAR_MS;
  const firstS = q.first.get(m.id);
  const lastS = q.last.get(m.id);
  if (firstS == null || lastS == null) return 0;
  const built0 = lastIntervalStartMs(db, m.id);
  const from = built0 !== undefined ? built0 + INTERVAL_MS : alignInterval(firstS * 1000);
  const to = Math.min(alignInterval(lastS * 1000), alignInterval(untilMs - nearMs - INTERVAL_MS)) + INTERVAL_MS;
  const swaps = replacementsOf(db, m.id);
  let built = 0;
  for (let chunk = from; chunk < to && built < budget; chunk += CHUNK_MS) {
    const chunkEnd = Math.min(chunk + CHUNK_MS, to);
    const rows = computeMeterChunk(q, m, chunk, chunkEnd, opts, swaps);
    insertIntervals(db, m.id, rows);
    built += rows.length;
  }
  return built;
}

function computeMeterChunk(q: Queries, m: { id: number; key: string }, fromMs: number, toMs: number, opts: BuildOptions, swaps: readonly Replacement[]) {
  const nearMs = opts.nearMs ?? DEFAULT_NEAR_MS;
  const calc = { nearMs, counter: opts.counterFor?.(m.key) ?? {}, maxPowerW: opts.maxPowerWFor?.(m.key) };
  return computeIntervals(acrossReplacements(loadSamples(q, m.id, fromMs, toMs, nearMs), swaps), fromMs, toMs, calc);
}

/**
 * The intervals of one meter in [fromMs, toMs) as the builder would make them now (replacements
 * recorded since included), without storing them: a new replacement re-judges quarantined intervals.
 */
export function recomputeIntervals(db: StoreDb, meterId: number, fromMs: number, toMs: number, opts: BuildOptions = {}) {
  const key = db.prepare<[number], string>('SELECT key FROM meters WHERE id = ?').pluck().get(meterId) ?? '';
  return computeMeterChunk(prepareQueries(db), { id: meterId, key }, alignInterval(fromMs), toMs, opts, replacementsOf(db, meterId));
}

/** Samples for intervals in [fromMs, toMs): those within nearMs around it plus the last counter readings before it. */
function loadSamples(q: Queries, meterId: number, fromMs: number, toMs: number, nearMs: number): IntervalSample[] {
  const startS = Math.ceil((fromMs - nearMs) / 1000);
  const rows = q.between.all(meterId, startS, Math.floor((toMs + nearMs) / 1000));
  const samples = rows.map((r) => toSample(r, q.lookup(r.layout_id)));
  const hasBefore = (pick: (s: IntervalSample) => number): boolean => samples.some((s) => s.ts <= fromMs && Number.isFinite(pick(s)));
  let needImp = !hasBefore((s) => s.energyImportKWh);
  let needExp = !hasBefore((s) => s.energyExportKWh);
  if (!needImp && !needExp) return samples;
  const earlier: IntervalSample[] = [];
  for (const r of q.before.all(meterId, startS, LOOKBACK_ROWS)) {
    const s = toSample(r, q.lookup(r.layout_id));
    const useful = (needImp && Number.isFinite(s.energyImportKWh)) || (needExp && Number.isFinite(s.energyExportKWh));
    if (!useful) continue;
    earlier.unshift(s);
    if (Number.isFinite(s.energyImportKWh)) needImp = false;
    if (Number.isFinite(s.energyExportKWh)) needExp = false;
    if (!needImp && !needExp) break;
  }
  return [...earlier, ...samples];
}
