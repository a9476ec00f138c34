import type { StoreDb } from './database.js';
import { chunkTimes, decodeChunk, encodeChunk } from './chunk-codec.js';
import type { ReadingRow } from './registry.js';

export const DAY_MS = 86_400_000;
export const DEFAULT_PRUNE_BATCH = 5_000;

export function retentionCutoffMs(nowMs: number, days: number): number {
  return nowMs - days * DAY_MS;
}

/**
 * Deletes at most batchSize raw readings older than beforeMs, in one short transaction, and
 * returns how many went. Old readings are in the hourly chunks (oldest first along their time
 * index, so a batch costs the same however large the table is); a chunk that straddles the cutoff,
 * or holds more than the batch has left, is rewritten without its old rows. The journal holds
 * the last hour or two, never older than the shortest retention (a day). Intervals are never touched.
 */
export function pruneBatch(db: StoreDb, beforeMs: number, batchSize = DEFAULT_PRUNE_BATCH): number {
  const beforeS = Math.ceil(beforeMs / 1000);
  const oldChunks = db.prepare<[number], { id: number; start_ts: number; data: Buffer }>(
    'SELECT id, start_ts, data FROM readings_chunks WHERE start_ts < ? ORDER BY start_ts',
  );
  return db.transaction(() => {
    let left = batchSize;
    const done: { id: number; keep: ReadingRow[] | null; start: number }[] = [];
    for (const c of oldChunks.iterate(beforeS)) {
      if (left <= 0) break;
      const times = chunkTimes(c.start_ts, c.data);
      const old = times.filter((t) => t < beforeS).length;
      const gone = Math.min(old, left);
      if (gone === 0) continue;
      left -= gone;
      done.push({ id: c.id, start: c.start_ts, keep: gone === times.length ? null : decodeChunk(c.start_ts, c.data).slice(gone) });
    }
    for (const d of done) {
      if (d.keep === null) db.prepare<[number]>('DELETE FROM readings_chunks WHERE id = ?').run(d.id);
      else db.prepare<[Buffer, number]>('UPDATE readings_chunks SET data = ? WHERE id = ?').run(encodeChunk(d.start, d.keep), d.id);
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
