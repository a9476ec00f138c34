import type { Statement } from 'better-sqlite3';
import type { StoreDb } from './database.js';
import { archivedUptoS, hourOf } from './archive.js';
import { chunkTimes, decodeChunk } from './chunk-codec.js';
import { journalOf } from './journal-of.js';
import type { ReadingRow } from './registry.js';

/**
 * The one way code reads stored readings: the journal's rows and the hourly chunks' rows, as
 * one series per meter. Chunks hold everything at or before archivedUptoS, the journal what
 * came after, so the two never overlap and need no merging. Only the chunks that can hold rows in
 * the range are decoded (the `readings` view would decode all of a meter's). Each call reads in one
 * transaction, so an hourly move committed by another connection is seen entirely or not at all.
 */
export interface RowQuery {
  /** Unix seconds, inclusive. */
  readonly fromS?: number;
  /** Unix seconds, exclusive. */
  readonly toS?: number;
  /** Newest first. */
  readonly desc?: boolean;
  readonly limit?: number;
  /** Only rows stored with one of these layouts (counted before the limit). */
  readonly layouts?: ReadonlySet<number>;
}

const LOW = -1e15;
const HIGH = 1e15;

export function readingRows(db: StoreDb, meterId: number, q: RowQuery = {}): ReadingRow[] {
  return scan(db, meterId, q, false) as ReadingRow[];
}

/** Just the timestamps (unix seconds), without decoding values. */
export function readingTimes(db: StoreDb, meterId: number, q: Omit<RowQuery, 'layouts'> = {}): number[] {
  return scan(db, meterId, q, true) as number[];
}

export function firstReadingS(db: StoreDb, meterId: number): number | undefined {
  return readingTimes(db, meterId, { limit: 1 })[0];
}

export function lastReadingS(db: StoreDb, meterId: number): number | undefined {
  return readingTimes(db, meterId, { limit: 1, desc: true })[0];
}

export function hasAnyReading(db: StoreDb): boolean {
  return db.prepare('SELECT 1 FROM readings_chunks LIMIT 1').get() !== undefined || !journalOf(db).isEmpty(archivedUptoS(db));
}

const cache = new WeakMap<StoreDb, Map<string, unknown>>();
/** Statements are compiled once per connection: the interval builder asks for every meter after every flush. */
function prepared<P extends unknown[], R>(db: StoreDb, sql: string): Statement<P, R> {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map<string, unknown>()));
  let s = m.get(sql) as Statement<P, R> | undefined;
  if (!s) m.set(sql, (s = db.prepare<P, R>(sql)));
  return s;
}

function scan(db: StoreDb, meterId: number, q: RowQuery, timesOnly: boolean): (ReadingRow | number)[] {
  const from = q.fromS ?? LOW;
  const to = q.toS ?? HIGH;
  const limit = q.limit ?? Infinity;
  if (limit <= 0 || from >= to) return [];
  const dir = q.desc ? 'DESC' : 'ASC';
  const keep = (r: { layout_id: number }): boolean => !q.layouts || q.layouts.has(r.layout_id);
  const read = (): (ReadingRow | number)[] => {
    const out: (ReadingRow | number)[] = [];
    const upto = archivedUptoS(db);
    const recent = (): void => {
      if (to <= upto + 1 || out.length >= limit) return;
      const rows = journalOf(db).rows(meterId, from, to, upto);
      if (q.desc) rows.reverse();
      for (const r of rows) {
        if (!keep(r)) continue;
        out.push(timesOnly ? r.ts : r);
        if (out.length >= limit) break;
      }
    };
    const chunks = (): void => {
      if (from > upto || out.length >= limit) return;
      const stmt = prepared<[number, number, number], { start_ts: number; data: Buffer }>(
        db,
        `SELECT start_ts, data FROM readings_chunks WHERE meter_id = ? AND start_ts >= ? AND start_ts < ? ORDER BY start_ts ${dir}`,
      );
      for (const c of stmt.iterate(meterId, hourOf(Math.max(from, LOW)), Math.min(to, upto + 1))) {
        let rows: (ReadingRow | number)[];
        if (timesOnly && !q.layouts) rows = chunkTimes(c.start_ts, c.data).filter((t) => t >= from && t < to);
        else
          rows = decodeChunk(c.start_ts, c.data)
            .filter((r) => r.ts >= from && r.ts < to && keep(r))
            .map((r) => (timesOnly ? r.ts : r));
        if (q.desc) rows.reverse();
        for (const r of rows) {
          out.push(r);
          if (out.length >= limit) return;
        }
      }
    };
    if (q.desc) {
      recent();
      chunks();
    } else {
      chunks();
      recent();
    }
    return out;
  };
  // Inside a caller's transaction the snapshot is already one; otherwise take one for both tables.
  return db.inTransaction ? read() : db.transaction(read)();
}
