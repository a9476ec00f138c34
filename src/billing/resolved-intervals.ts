import type { StoreDb } from '../store/database.js';
import { lastResolutionId, resolutionsAfter } from '../store/quarantine.js';
import type { Assignment } from './customers.js';
import type { IntervalEnergy } from './usage.js';
import { prep } from './sql-cache.js';

/**
 * A quarantined interval is read as 0 kWh, so prepaid charging passes it without charging it. When
 * a person resolves it later, its energy is charged once by the next run: the resolutions of the
 * customer's meters newer than the last one this customer's runs have seen, of intervals the
 * watermark had already passed (later ones are charged the ordinary way). Call it inside the
 * customer's charging transaction, before the watermarks move.
 */
export function lateResolutions(db: StoreDb, customerId: string, assignments: readonly Assignment[]): { intervals: IntervalEnergy[]; ranges: string[] } {
  db.exec('CREATE TABLE IF NOT EXISTS billing_resolution_marks (customer_id TEXT PRIMARY KEY, last_id INTEGER NOT NULL)');
  const seen = prep<[string], number>(db, 'SELECT last_id FROM billing_resolution_marks WHERE customer_id = ?').pluck().get(customerId) ?? 0;
  const newest = lastResolutionId(db);
  const intervals: IntervalEnergy[] = [];
  const ranges: string[] = [];
  if (newest > seen) {
    for (const a of assignments) {
      const passed = prep<[string, string], number>(db, 'SELECT next_ms FROM billing_watermarks WHERE customer_id = ? AND meter_key = ?')
        .pluck()
        .get(customerId, a.meterKey);
      if (passed === undefined) continue;
      for (const r of resolutionsAfter(db, seen, a.meterKey, a.fromMs, Math.min(passed, a.toMs ?? Infinity))) {
        intervals.push({ startMs: r.startMs, kWh: r.importKWh ?? 0 });
        ranges.push(`${a.meterKey}@resolved#${r.id}`);
      }
    }
    prep(db, 'INSERT INTO billing_resolution_marks (customer_id, last_id) VALUES (?, ?) ON CONFLICT DO UPDATE SET last_id = excluded.last_id').run(
      customerId,
      newest,
    );
  }
  return { intervals, ranges };
}
