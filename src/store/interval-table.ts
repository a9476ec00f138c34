import type { StoreDb } from './database.js';
import type { IntervalRow } from './interval-calc.js';
import { INTERVAL_COLUMNS } from './schema.js';

/**
 * Reads and writes the intervals; the only place that knows their columns and units (seconds).
 * New ones go to `intervals_recent` (keyed by time: a build appends), and moveIntervals carries the
 * older days to `intervals_archive` (keyed by meter); readers use the `intervals` view of both.
 */
export function insertIntervals(db: StoreDb, meterId: number, rows: readonly IntervalRow[]): void {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO intervals_recent (${INTERVAL_COLUMNS})
     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
     WHERE NOT EXISTS (SELECT 1 FROM intervals_archive WHERE meter_id = ? AND start_ts = ?)`,
  );
  db.transaction(() => {
    for (const r of rows) {
      insert.run(
        meterId,
        r.startMs / 1000,
        r.energyImportKWh,
        r.energyExportKWh,
        r.powerAvgW,
        r.powerMinW,
        r.powerMaxW,
        r.voltageMinV,
        r.voltageMaxV,
        r.samples,
        r.status ?? 'ok',
        r.reason ?? null,
        r.suspectImportKWh ?? null,
        r.suspectExportKWh ?? null,
        meterId,
        r.startMs / 1000,
      );
    }
  })();
}

type Settable = 'status' | 'e_imp_kwh' | 'e_exp_kwh' | 'reason' | 'suspect_imp_kwh' | 'suspect_exp_kwh';

/** Changes one stored interval, in whichever table holds it; false if none does. */
export function updateInterval(db: StoreDb, meterId: number, startS: number, set: Partial<Record<Settable, string | number | null>>): boolean {
  const cols = Object.keys(set) as Settable[];
  if (cols.length === 0) return false;
  const assignments = cols.map((c) => `${c} = ?`).join(', ');
  const values = cols.map((c) => set[c] ?? null);
  let changed = 0;
  for (const table of ['intervals_recent', 'intervals_archive']) {
    changed += db.prepare(`UPDATE ${table} SET ${assignments} WHERE meter_id = ? AND start_ts = ?`).run(...values, meterId, startS).changes;
  }
  return changed > 0;
}

/**
 * Moves the intervals starting before beforeMs to the archive, in (meter, start) order so that each
 * meter's rows land together, in one transaction. Returns how many moved (0 at once when none is due).
 */
export function moveIntervals(db: StoreDb, beforeMs: number): number {
  const beforeS = Math.floor(beforeMs / 1000);
  if (db.prepare<[number]>('SELECT 1 FROM intervals_recent WHERE start_ts < ? LIMIT 1').get(beforeS) === undefined) return 0;
  return db.transaction(() => {
    const moved = db
      .prepare<[number]>(
        `INSERT OR IGNORE INTO intervals_archive (${INTERVAL_COLUMNS}) SELECT ${INTERVAL_COLUMNS} FROM intervals_recent WHERE start_ts < ? ORDER BY meter_id, start_ts`,
      )
      .run(beforeS).changes;
    db.prepare<[number]>('DELETE FROM intervals_recent WHERE start_ts < ?').run(beforeS);
    return moved;
  })();
}

/** The cut for `nowMs`: the recent table keeps yesterday and today (UTC days). */
export function intervalMoveCutMs(nowMs: number): number {
  const DAY_MS = 86_400_000;
  return Math.floor(nowMs / DAY_MS) * DAY_MS - DAY_MS;
}

/**
 * Intervals starting in [fromMs, toMs), oldest first. better-sqlite3 spends ~100 ns per cell
 * handed to JS, which for a year (35,040 rows x 9 columns) alone would eat the 50 ms budget. So
 * SQLite returns one JSON text of integers (energy in µWh, power in mW, voltage in mV: the
 * resolution the values are stored at) and JS scales them back, exactly, in about a third of that.
 */
export function selectIntervals(db: StoreDb, meterId: number, fromMs: number, toMs: number): IntervalRow[] {
  const rows = inBothTables(db, (table) => {
    const json = db
      .prepare<[number, number, number], string>(
        `SELECT json_group_array(json_array(start_ts, ${scaled('e_imp_kwh', 1e6)}, ${scaled('e_exp_kwh', 1e6)},
           ${scaled('p_avg_w', 1e3)}, ${scaled('p_min_w', 1e3)}, ${scaled('p_max_w', 1e3)},
           ${scaled('v_min_v', 1e3)}, ${scaled('v_max_v', 1e3)}, samples,
           status, reason, ${scaled('suspect_imp_kwh', 1e6)}, ${scaled('suspect_exp_kwh', 1e6)}))
         FROM (SELECT * FROM ${table} WHERE meter_id = ? AND start_ts >= ? AND start_ts < ? ORDER BY start_ts)`,
      )
      .pluck()
      .get(meterId, Math.ceil(fromMs / 1000), Math.ceil(toMs / 1000));
    return JSON.parse(json ?? '[]') as (number | string | null)[][];
  });
  return rows.map((r) => {
    const row: IntervalRow = {
      startMs: (r[0] as number) * 1000,
      energyImportKWh: unscale(r[1] as number | null, 1e6),
      energyExportKWh: unscale(r[2] as number | null, 1e6),
      powerAvgW: unscale(r[3] as number | null, 1e3),
      powerMinW: unscale(r[4] as number | null, 1e3),
      powerMaxW: unscale(r[5] as number | null, 1e3),
      voltageMinV: unscale(r[6] as number | null, 1e3),
      voltageMaxV: unscale(r[7] as number | null, 1e3),
      samples: r[8] as number,
    };
    const status = r[9] as string;
    if (status === 'ok') return row;
    return {
      ...row,
      status: status as 'quarantined' | 'resolved',
      reason: (r[10] as string | null) ?? '',
      suspectImportKWh: unscale(r[11] as number | null, 1e6),
      suspectExportKWh: unscale(r[12] as number | null, 1e6),
    };
  });
}

const scaled = (column: string, per: number): string => `CAST(round(${column} * ${per}) AS INTEGER)`;
const unscale = (x: number | null | undefined, per: number): number | null => (x === null || x === undefined ? null : x / per);

/** Just the energies, for daily sums: three cells a row keep a year well inside the budget. */
export function selectEnergies(db: StoreDb, meterId: number, fromMs: number, toMs: number): [number, number | null, number | null][] {
  return inBothTables(db, (table) =>
    db
      .prepare<[number, number, number], [number, number | null, number | null]>(
        `SELECT start_ts * 1000, e_imp_kwh, e_exp_kwh FROM ${table} WHERE meter_id = ? AND start_ts >= ? AND start_ts < ? ORDER BY start_ts`,
      )
      .raw(true)
      .all(meterId, Math.ceil(fromMs / 1000), Math.ceil(toMs / 1000)),
  );
}

/**
 * Rows (first cell: start) from the archive then the recent table, each read in its own key's order
 * (through the view, SQLite would sort the union). The archive's rows come first in time unless a
 * rebuild wrote old intervals to the recent table; only then are they sorted.
 */
function inBothTables<R extends readonly unknown[]>(db: StoreDb, read: (table: 'intervals_archive' | 'intervals_recent') => R[]): R[] {
  // One snapshot for both: a daily move committed between the two reads would show its rows twice.
  const both = (): [R[], R[]] => [read('intervals_archive'), read('intervals_recent')];
  const [archived, recent] = db.inTransaction ? both() : db.transaction(both)();
  const all = archived.concat(recent);
  const [lastArchived, firstRecent] = [archived[archived.length - 1], recent[0]];
  if (lastArchived && firstRecent && (lastArchived[0] as number) > (firstRecent[0] as number)) all.sort((a, b) => (a[0] as number) - (b[0] as number));
  return all;
}

export function lastIntervalStartMs(db: StoreDb, meterId: number): number | undefined {
  // The recent table is keyed by time: its newest rows hold the meter's newest, found walking back.
  const recent = db.prepare<[number], number>('SELECT start_ts FROM intervals_recent WHERE meter_id = ? ORDER BY start_ts DESC LIMIT 1').pluck().get(meterId);
  const archived = db.prepare<[number], number | null>('SELECT max(start_ts) FROM intervals_archive WHERE meter_id = ?').pluck().get(meterId);
  const s = Math.max(recent ?? -Infinity, archived ?? -Infinity);
  return Number.isFinite(s) ? s * 1000 : undefined;
}

/** Forgets intervals from fromMs on (all meters, or one), so the next build recomputes them. */
export function deleteIntervalsFrom(db: StoreDb, fromMs: number, meterId?: number): number {
  const fromS = Math.ceil(fromMs / 1000);
  let n = 0;
  for (const table of ['intervals_recent', 'intervals_archive']) {
    n +=
      meterId === undefined
        ? db.prepare(`DELETE FROM ${table} WHERE start_ts >= ?`).run(fromS).changes
        : db.prepare(`DELETE FROM ${table} WHERE meter_id = ? AND start_ts >= ?`).run(meterId, fromS).changes;
  }
  return n;
}
