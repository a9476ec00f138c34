import type { StoreDb } from './database.js';
import { decodeChunk, encodeChunk } from './chunk-codec.js';
import type { ReadingRow } from './registry.js';

export const HOUR_MS = 3_600_000;
export const HOUR_S = 3600;

/**
 * Where new readings land and when they move (see the migrations that made `readings` a view):
 * a flush appends to `readings_recent` (keyed by time, so it writes a few new pages instead of one
 * page per meter), and once an hour the closed hour becomes one compressed chunk per meter in
 * `readings_chunks` (chunk-codec.ts), appended in time order.
 */

/** Unix seconds: readings at or before it are in the chunks, later ones in the recent table. */
export function archivedUptoS(db: StoreDb): number {
  return db.prepare<[], number>('SELECT ts FROM readings_archived_upto WHERE id = 1').pluck().get() ?? -1;
}

/** The cut for `nowMs`: the recent table keeps the current and the previous hour. */
export function archiveCutMs(nowMs: number): number {
  return Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS;
}

export const hourOf = (ts: number): number => ts - (((ts % HOUR_S) + HOUR_S) % HOUR_S);

/**
 * Adds rows (one meter's, sorted by ts, all in the hour starting at startS) to that meter-hour's
 * chunk, creating it or merging with the stored one; a row whose second is stored already is
 * dropped (the stored one stays, as INSERT OR IGNORE would). Returns how many rows were added.
 */
export function addToChunk(db: StoreDb, meterId: number, startS: number, rows: readonly ReadingRow[]): number {
  const existing = db
    .prepare<[number, number], { id: number; data: Buffer }>('SELECT id, data FROM readings_chunks WHERE start_ts = ? AND meter_id = ?')
    .get(startS, meterId);
  if (!existing) {
    const unique = rows.filter((r, i) => i === 0 || r.ts !== (rows[i - 1] as ReadingRow).ts);
    db.prepare<[number, number, Buffer]>('INSERT INTO readings_chunks (meter_id, start_ts, data) VALUES (?, ?, ?)').run(
      meterId,
      startS,
      encodeChunk(startS, unique),
    );
    return unique.length;
  }
  const stored = decodeChunk(startS, existing.data);
  const seen = new Set(stored.map((r) => r.ts));
  const added = rows.filter((r) => !seen.has(r.ts) && (seen.add(r.ts), true));
  if (added.length === 0) return 0;
  const merged = [...stored, ...added].sort((a, b) => a.ts - b.ts);
  db.prepare<[Buffer, number]>('UPDATE readings_chunks SET data = ? WHERE id = ?').run(encodeChunk(startS, merged), existing.id);
  return added.length;
}

/**
 * Moves every reading before `beforeMs` from the recent table into chunks, hour by hour, in one
 * transaction (a crash leaves either all of it moved or none), and returns how many moved (0 at once
 * when that was done already). Duplicates of a stored (meter, second) are dropped, as the writer would.
 */
export function archiveReadings(db: StoreDb, beforeMs: number): number {
  const beforeS = Math.floor(beforeMs / 1000);
  if (beforeS - 1 <= archivedUptoS(db)) return 0;
  const firstAfter = db.prepare<[number, number], number>('SELECT ts FROM readings_recent WHERE ts >= ? AND ts < ? ORDER BY ts LIMIT 1').pluck();
  const hourRows = db.prepare<[number, number], ReadingRow & { meter_id: number }>(
    'SELECT meter_id, ts, layout_id, vals FROM readings_recent WHERE ts >= ? AND ts < ? ORDER BY meter_id, ts',
  );
  return db.transaction(() => {
    let moved = 0;
    for (let next = firstAfter.get(-1e15, beforeS); next !== undefined; next = firstAfter.get(hourOf(next) + HOUR_S, beforeS)) {
      const h = hourOf(next);
      const rows = hourRows.all(h, Math.min(h + HOUR_S, beforeS));
      // Chunks go in (start_ts, meter_id) order: both b-trees of readings_chunks grow at their end.
      for (let i = 0; i < rows.length;) {
        let j = i;
        const meterId = (rows[i] as { meter_id: number }).meter_id;
        while (j < rows.length && (rows[j] as { meter_id: number }).meter_id === meterId) j++;
        moved += addToChunk(db, meterId, h, rows.slice(i, j));
        i = j;
      }
    }
    db.prepare<[number]>('DELETE FROM readings_recent WHERE ts < ?').run(beforeS);
    db.prepare<[number]>('UPDATE readings_archived_upto SET ts = max(ts, ?) WHERE id = 1').run(beforeS - 1);
    return moved;
  })();
}
