import type { StoreDb } from './database.js';
import { readChannel } from './codec.js';
import { layoutLookup, meterIdOf } from './registry.js';
import { readingRows } from './reading-rows.js';
import { selectIntervals } from './interval-table.js';
import { ZonedClock } from './zoned-clock.js';
import { cell, INTERVAL_COLUMNS, READING_COLUMNS } from './csv-columns.js';
import { csvCell } from '../util/csv.js';
import { ENERGY_AGE_HEADER, EnergyCarry } from './csv-carry.js';

/** The seed logger's columns, then the age of the energy values carried onto rows that did not read them. */
export const READINGS_CSV_HEADER = ['timestamp', 'meter_id', ...READING_COLUMNS.map((c) => c.header), ENERGY_AGE_HEADER].join(',');
export const INTERVALS_CSV_HEADER = ['interval_start', 'meter_id', ...INTERVAL_COLUMNS.map((c) => c.header)].join(',');

export interface CsvOptions {
  /** The meter_id column (the seed logger wrote the Modbus address, e.g. 10). Default: the meter key. */
  readonly meterLabel?: string | number;
}

/** Rows are read in pages, never through a long-lived cursor: a slow HTTP client must not hold the connection. */
const PAGE_ROWS = 1000;

/** The meter label is the only text cell; the shared encoder quotes it and neutralises formulas. */
const quote = (field: string): string => csvCell(field);

/**
 * One local day of raw readings as CSV lines (each ending in \n, header first), in the seed
 * logger's format. Iterate it, or stream it with Readable.from(...).
 */
export function* readingsCsv(db: StoreDb, meter: string, day: string, timeZone: string, opts: CsvOptions = {}): Generator<string> {
  const clock = new ZonedClock(timeZone);
  const [fromMs, toMs] = clock.dayRange(day);
  const label = quote(String(opts.meterLabel ?? meter));
  yield `${READINGS_CSV_HEADER}\n`;
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) return;
  const lookup = layoutLookup(db);
  // The day's first rows carry the counter read before midnight.
  const carry = EnergyCarry.before(db, meterId, Math.ceil(fromMs / 1000), lookup);
  let fromS = Math.ceil(fromMs / 1000);
  const toS = Math.ceil(toMs / 1000);
  for (;;) {
    const rows = readingRows(db, meterId, { fromS, toS, limit: PAGE_ROWS });
    for (const r of rows) {
      const layout = lookup(r.layout_id);
      const row = carry.row(r.ts, (channel) => readChannel(layout, r.vals, channel));
      const cells = READING_COLUMNS.map((c) => cell(row.value(c.channel), c.divisor, c.format));
      yield `${clock.format(r.ts * 1000)},${label},${cells.join(',')},${row.ageS ?? ''}\n`;
    }
    const last = rows[rows.length - 1];
    if (rows.length < PAGE_ROWS || !last) return;
    fromS = last.ts + 1;
  }
}

/** One local day of 15-minute intervals as CSV lines (96 on most days). */
export function* intervalsCsv(db: StoreDb, meter: string, day: string, timeZone: string, opts: CsvOptions = {}): Generator<string> {
  const clock = new ZonedClock(timeZone);
  const [fromMs, toMs] = clock.dayRange(day);
  const label = quote(String(opts.meterLabel ?? meter));
  yield `${INTERVALS_CSV_HEADER}\n`;
  const meterId = meterIdOf(db, meter);
  if (meterId === undefined) return;
  for (const r of selectIntervals(db, meterId, fromMs, toMs)) {
    const cells = INTERVAL_COLUMNS.map((c) => cell(r[c.field], c.divisor, c.format));
    yield `${clock.format(r.startMs)},${label},${cells.join(',')}\n`;
  }
}

/** The whole CSV as one string, for small exports and tests. */
export function csvText(lines: Iterable<string>): string {
  let out = '';
  for (const line of lines) out += line;
  return out;
}
