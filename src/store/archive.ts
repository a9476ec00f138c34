import type { StoreDb } from './database.js';
import { decodeChunk, encodeChunk } from './chunk-codec.js';
import type { ReadingRow } from './registry.js';

import { HOUR_MS } from './hour.js';
import { journalOf } from './journal-of.js';

export { HOUR_MS, HOUR_S, hourOf } from './hour.js';

/**
 * Where new readings land and when they move: a flush appends to the journal (recent-journal.ts:
 * one append-only file per hour, written once), and once an hour the closed hour becomes one
 * compressed chunk per meter in `readings_chunks` (chunk-codec.ts), appended in time order.
 */

/** Unix seconds: readings at or before it are in the chunks, later ones in the journal. */
export function archivedUptoS(db: StoreDb): number {
  return db.prepare<[], number>('SELECT ts FROM readings_archived_upto WHERE id = 1').pluck().get() ?? -1;
}

/** The cut for `nowMs`: the journal keeps the current and the previous hour. */
export function archiveCutMs(nowMs: number): number {
  return Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS;
}

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
 * Moves every reading before `beforeMs` from the journal into chunks, hour by hour, in one
 * transaction (a crash leaves either all of it moved or none: the journal's files stay until an
 * hour after, and rows at or before the archive's end are ignored in them), and returns how many
 * moved (0 at once when that was done already). Duplicates of a stored (meter, second) are dropped.
 */
export function archiveReadings(db: StoreDb, beforeMs: number): number {
  const beforeS = Math.floor(beforeMs / 1000);
  const upto = archivedUptoS(db);
  if (beforeS - 1 <= upto) return 0;
  const journal = journalOf(db);
  // Chunks go in (start_ts, meter_id) order: both b-trees of readings_chunks grow at their end.
  const groups = journal.rowsBefore(beforeS, upto);
  const moved = db.transaction(() => {
    let n = 0;
    for (const g of groups) n += addToChunk(db, g.meterId, g.hour, g.rows);
    db.prepare<[number]>('UPDATE readings_archived_upto SET ts = max(ts, ?) WHERE id = 1').run(beforeS - 1);
    return n;
  })();
  journal.forget(beforeS);
  return moved;
}

/** Moves every reading the journal holds into chunks (before a store in memory is copied to a file). */
export function archiveEverything(db: StoreDb): number {
  const newest = journalOf(db).newestS(archivedUptoS(db));
  return newest === undefined ? 0 : archiveReadings(db, (newest + 1) * 1000);
}
