import type { StoreDb } from './database.js';

export const HOUR_MS = 3_600_000;

/**
 * Where new readings land and when they move (see the migration that made `readings` a view):
 * a flush appends to `readings_recent` (keyed by time, so it writes a few new pages instead of one
 * page per meter), and the closed hours move to `readings_archive` (keyed by meter) in one sorted
 * batch, a run of new pages per meter.
 */

/** Unix seconds: readings at or before it belong to the archive. */
export function archivedUptoS(db: StoreDb): number {
  return db.prepare<[], number>('SELECT ts FROM readings_archived_upto WHERE id = 1').pluck().get() ?? -1;
}

/** The cut for `nowMs`: the recent table keeps the current and the previous hour. */
export function archiveCutMs(nowMs: number): number {
  return Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS;
}

/**
 * Moves every reading before `beforeMs` from the recent table to the archive, in one transaction,
 * and returns how many moved (0 at once when that was done already). Duplicates of an archived
 * (meter, second) are dropped, as the writer would.
 */
export function archiveReadings(db: StoreDb, beforeMs: number): number {
  const beforeS = Math.floor(beforeMs / 1000);
  if (beforeS - 1 <= archivedUptoS(db)) return 0;
  return db.transaction(() => {
    const moved = db
      .prepare<[number]>('INSERT OR IGNORE INTO readings_archive (meter_id, ts, layout_id, vals) SELECT meter_id, ts, layout_id, vals FROM readings_recent WHERE ts < ? ORDER BY meter_id, ts')
      .run(beforeS).changes;
    db.prepare<[number]>('DELETE FROM readings_recent WHERE ts < ?').run(beforeS);
    db.prepare<[number]>('UPDATE readings_archived_upto SET ts = max(ts, ?) WHERE id = 1').run(beforeS - 1);
    return moved;
  })();
}
