import type { StoreDb } from './database.js';
import type { IntervalRow } from './interval-calc.js';

/** Reads and writes the intervals table; the only place that knows its columns and units (seconds). */
interface DbInterval {
  start_ts: number;
  e_imp_kwh: number | null;
  e_exp_kwh: number | null;
  p_avg_w: number | null;
  p_min_w: number | null;
  p_max_w: number | null;
  v_min_v: number | null;
  v_max_v: number | null;
  samples: number;
}

export function insertIntervals(db: StoreDb, meterId: number, rows: readonly IntervalRow[]): void {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO intervals (meter_id, start_ts, e_imp_kwh, e_exp_kwh, p_avg_w, p_min_w, p_max_w, v_min_v, v_max_v, samples)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) {
      insert.run(meterId, r.startMs / 1000, r.energyImportKWh, r.energyExportKWh, r.powerAvgW, r.powerMinW, r.powerMaxW, r.voltageMinV, r.voltageMaxV, r.samples);
    }
  })();
}

/** Intervals starting in [fromMs, toMs), oldest first. */
export function selectIntervals(db: StoreDb, meterId: number, fromMs: number, toMs: number): IntervalRow[] {
  const rows = db
    .prepare<[number, number, number], DbInterval>(
      `SELECT start_ts, e_imp_kwh, e_exp_kwh, p_avg_w, p_min_w, p_max_w, v_min_v, v_max_v, samples
       FROM intervals WHERE meter_id = ? AND start_ts >= ? AND start_ts < ? ORDER BY start_ts`,
    )
    .all(meterId, Math.ceil(fromMs / 1000), Math.ceil(toMs / 1000));
  return rows.map((r) => ({
    startMs: r.start_ts * 1000,
    energyImportKWh: r.e_imp_kwh,
    energyExportKWh: r.e_exp_kwh,
    powerAvgW: r.p_avg_w,
    powerMinW: r.p_min_w,
    powerMaxW: r.p_max_w,
    voltageMinV: r.v_min_v,
    voltageMaxV: r.v_max_v,
    samples: r.samples,
  }));
}

export function lastIntervalStartMs(db: StoreDb, meterId: number): number | undefined {
  const row = db.prepare<[number], { s: number | null }>('SELECT max(start_ts) AS s FROM intervals WHERE meter_id = ?').get(meterId);
  return row?.s == null ? undefined : row.s * 1000;
}

/** Forgets intervals from fromMs on (all meters, or one), so the next build recomputes them. */
export function deleteIntervalsFrom(db: StoreDb, fromMs: number, meterId?: number): number {
  const fromS = Math.ceil(fromMs / 1000);
  return meterId === undefined
    ? db.prepare('DELETE FROM intervals WHERE start_ts >= ?').run(fromS).changes
    : db.prepare('DELETE FROM intervals WHERE meter_id = ? AND start_ts >= ?').run(meterId, fromS).changes;
}
