import type { StoreDb } from '../../src/store/database.js';
import type { IntervalRow } from '../../src/store/interval-calc.js';
import { ReadingWriter } from '../../src/store/reading-writer.js';

/** Shared fixtures of the billing tests: the site's zone (UTC+3, no DST) and quarter-hour intervals. */
export const TZ = 'Africa/Kampala';
export const local = (s: string): number => Date.parse(`${s}+03:00`);
export const Q = 900_000;

/** One quarter-hour interval row importing `kWh` from `startMs`. */
export const intervalRow = (startMs: number, kWh: number): IntervalRow => ({
  startMs,
  energyImportKWh: kWh,
  energyExportKWh: 0,
  powerAvgW: 1,
  powerMinW: 1,
  powerMaxW: 1,
  voltageMinV: 230,
  voltageMaxV: 230,
  samples: 90,
});

/** Creates meter `key` (by writing one reading) and returns its row id. */
export function meterId(db: StoreDb, key: string): number {
  const w = new ReadingWriter(db);
  w.add({ meter: key, ts: 0, values: { ActivePower: 0 } });
  w.flush();
  return (db.prepare('SELECT id FROM meters WHERE key = ?').get(key) as { id: number }).id;
}
