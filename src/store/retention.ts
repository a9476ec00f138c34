import type { StoreDb } from './database.js';

export const DAY_MS = 86_400_000;
export const DEFAULT_PRUNE_BATCH = 5_000;

export function retentionCutoffMs(nowMs: number, days: number): number {
  return nowMs - days * DAY_MS;
}

/**
 * Deletes at most batchSize raw readings older than beforeMs, in one short transaction, and
 * returns how many went. Works meter by meter along the primary key, so a batch costs the same
 * however large the table is. Intervals are never touched.
 */
export function pruneBatch(db: StoreDb, beforeMs: number, batchSize = DEFAULT_PRUNE_BATCH): number {
  const beforeS = Math.ceil(beforeMs / 1000);
  const meters = db.prepare<[], { id: number }>('SELECT id FROM meters ORDER BY id').all();
  // Old readings are in the archive (`readings` is a view); the recent table holds hours, unless a
  // retention shorter than that is configured.
  const nth = db.prepare<[number, number, number], { ts: number }>(
    'SELECT ts FROM readings_archive WHERE meter_id = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?',
  );
  const del = db.prepare<[number, number]>('DELETE FROM readings_archive WHERE meter_id = ? AND ts < ?');
  const delRecent = db.prepare<[number, number]>(
    'DELETE FROM readings_recent WHERE (ts, meter_id) IN (SELECT ts, meter_id FROM readings_recent WHERE ts < ? ORDER BY ts LIMIT ?)',
  );
  return db.transaction(() => {
    let left = batchSize - delRecent.run(beforeS, batchSize).changes;
    for (const { id } of meters) {
      if (left <= 0) break;
      // The (left+1)-th old row bounds the delete to exactly `left` rows, if there are that many.
      const bound = nth.get(id, beforeS, left)?.ts ?? beforeS;
      left -= del.run(id, bound).changes;
    }
    return batchSize - left;
  })();
}

/** Deletes every raw reading older than beforeMs, yielding to the event loop between batches so polling goes on. */
export async function pruneRawReadings(db: StoreDb, beforeMs: number, batchSize = DEFAULT_PRUNE_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = pruneBatch(db, beforeMs, batchSize);
    total += n;
    if (n < batchSize) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
