import type { StoreDb } from './database.js';
import { decodeValues, readChannel } from './codec.js';
import { layoutLookup, meterIdOf } from './registry.js';
import { readingRows } from './reading-rows.js';
import type { IntervalRow } from './interval-calc.js';
import { selectEnergies, selectIntervals } from './interval-table.js';
import { ZonedClock } from './zoned-clock.js';

/** Read queries for charts and the API. Times are unix ms, ranges half-open [fromMs, toMs). */

/** One channel of the raw readings; polls that did not deliver it are left out. */
export function rawSeries(db: StoreDb, meter: string, channel: string, fromMs: number, toMs: number): [number, number][] {
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) return [];
  const lookup = layoutLookup(db);
  const out: [number, number][] = [];
  const rows = readingRows(db, meterId, { fromS: Math.ceil(fromMs / 1000), toS: Math.ceil(toMs / 1000) });
  for (const r of rows) {
    const v = readChannel(lookup(r.layout_id), r.vals, channel);
    if (!Number.isNaN(v)) out.push([r.ts * 1000, v]);
  }
  return out;
}

export function intervals(db: StoreDb, meter: string, fromMs: number, toMs: number): IntervalRow[] {
  const meterId = meterIdOf(db, meter);
  return meterId === undefined ? [] : selectIntervals(db, meterId, fromMs, toMs);
}

export interface DailyEnergy {
  readonly day: string;
  readonly importKWh: number;
  readonly exportKWh: number;
}

/**
 * Energy per local calendar day in timeZone, summed from the intervals starting in [fromMs, toMs).
 * Days without any interval are left out; intervals without a counter add nothing.
 */
export function dailyEnergy(db: StoreDb, meter: string, fromMs: number, toMs: number, timeZone: string): DailyEnergy[] {
  const clock = new ZonedClock(timeZone);
  const out: { day: string; importKWh: number; exportKWh: number }[] = [];
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) return [];
  let dayEnd = -Infinity;
  for (const [startMs, imp, exp] of selectEnergies(db, meterId, fromMs, toMs)) {
    // Intervals come in time order, so the zone is consulted once per day, not once per row.
    if (startMs >= dayEnd) {
      const day = clock.day(startMs);
      dayEnd = clock.dayRange(day)[1];
      out.push({ day, importKWh: 0, exportKWh: 0 });
    }
    const cur = out[out.length - 1] as { importKWh: number; exportKWh: number };
    cur.importKWh += imp ?? 0;
    cur.exportKWh += exp ?? 0;
  }
  const tidy = (x: number): number => Math.round(x * 1e6) / 1e6;
  return out.map((d) => ({ day: d.day, importKWh: tidy(d.importKWh), exportKWh: tidy(d.exportKWh) }));
}

export interface LatestReading {
  readonly ts: number;
  readonly values: Record<string, number>;
}

/** The newest stored reading of a meter (what is still buffered in the writer is not included). */
export function latestReading(db: StoreDb, meter: string): LatestReading | undefined {
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) return undefined;
  const row = readingRows(db, meterId, { desc: true, limit: 1 })[0];
  return row ? { ts: row.ts * 1000, values: decodeValues(layoutLookup(db)(row.layout_id), row.vals) } : undefined;
}
