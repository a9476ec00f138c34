import type { StoreDb } from './database.js';
import type { IntervalSample } from './interval-calc.js';

/**
 * A meter swapped at `atMs`: the old meter's final and the new meter's first counter readings.
 * Recorded by a person as an inventory event; the interval builder never infers one.
 */
export interface Replacement {
  readonly id: number;
  readonly meterId: number;
  readonly atMs: number;
  readonly oldSerial: string | null;
  readonly newSerial: string | null;
  readonly oldFinalImportKWh: number;
  readonly newFirstImportKWh: number;
  /** Without export readings the export counter is not bridged: a backwards step there stays quarantined. */
  readonly oldFinalExportKWh: number | null;
  readonly newFirstExportKWh: number | null;
  readonly by: string;
  readonly recordedMs: number;
  readonly why: string;
}

interface Row {
  id: number;
  meter_id: number;
  at_ms: number;
  old_serial: string | null;
  new_serial: string | null;
  old_final_imp_kwh: number;
  new_first_imp_kwh: number;
  old_final_exp_kwh: number | null;
  new_first_exp_kwh: number | null;
  by_user: string;
  recorded_ms: number;
  why: string;
}

const toReplacement = (r: Row): Replacement => ({
  id: r.id,
  meterId: r.meter_id,
  atMs: r.at_ms,
  oldSerial: r.old_serial,
  newSerial: r.new_serial,
  oldFinalImportKWh: r.old_final_imp_kwh,
  newFirstImportKWh: r.new_first_imp_kwh,
  oldFinalExportKWh: r.old_final_exp_kwh,
  newFirstExportKWh: r.new_first_exp_kwh,
  by: r.by_user,
  recordedMs: r.recorded_ms,
  why: r.why,
});

export function replacementsOf(db: StoreDb, meterId: number): Replacement[] {
  return db.prepare<[number], Row>('SELECT * FROM meter_replacements WHERE meter_id = ? ORDER BY at_ms').all(meterId).map(toReplacement);
}

export function insertReplacement(db: StoreDb, r: Omit<Replacement, 'id'>): Replacement {
  const info = db
    .prepare(
      `INSERT INTO meter_replacements (meter_id, at_ms, old_serial, new_serial, old_final_imp_kwh, new_first_imp_kwh, old_final_exp_kwh, new_first_exp_kwh, by_user, recorded_ms, why)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      r.meterId,
      r.atMs,
      r.oldSerial,
      r.newSerial,
      r.oldFinalImportKWh,
      r.newFirstImportKWh,
      r.oldFinalExportKWh,
      r.newFirstExportKWh,
      r.by,
      r.recordedMs,
      r.why,
    );
  return { ...r, id: Number(info.lastInsertRowid) };
}

/**
 * Counter readings as one continuous counter: a reading after a swap gets what the old meters had
 * counted added (old final - new first, summed over earlier swaps), so energy across a swap is
 * (old final - last old reading) + (first new reading - new first).
 */
export function acrossReplacements(samples: readonly IntervalSample[], swaps: readonly Replacement[]): IntervalSample[] {
  if (swaps.length === 0) return [...samples];
  return samples.map((s) => {
    let imp = 0;
    let exp = 0;
    for (const w of swaps) {
      if (w.atMs > s.ts) break;
      imp += w.oldFinalImportKWh - w.newFirstImportKWh;
      if (w.oldFinalExportKWh !== null && w.newFirstExportKWh !== null) exp += w.oldFinalExportKWh - w.newFirstExportKWh;
    }
    return imp === 0 && exp === 0 ? s : { ...s, energyImportKWh: s.energyImportKWh + imp, energyExportKWh: s.energyExportKWh + exp };
  });
}
