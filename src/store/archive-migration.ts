import type Database from 'better-sqlite3';
import { addToChunk } from './archive.js';
import { encodeChunk } from './chunk-codec.js';
import type { StoreDb } from './database.js';
import { hourOf } from './hour.js';
import type { ReadingRow } from './registry.js';

const HOUR_S = 3600;
const PAGE_ROWS = 20_000;

/**
 * The migration step that turns the row-per-reading `readings_archive` into hourly chunks, meter by
 * meter in pages (memory stays bounded however long the history is). It runs inside the migration's
 * transaction: a crash leaves the file at the previous version, with the archive intact.
 */
export function convertArchiveToChunks(db: Database.Database): void {
  const meters = db.prepare<[], number>('SELECT DISTINCT meter_id FROM readings_archive ORDER BY meter_id').pluck().all();
  const page = db.prepare<[number, number, number], ReadingRow>(
    'SELECT ts, layout_id, vals FROM readings_archive WHERE meter_id = ? AND ts >= ? ORDER BY ts LIMIT ?',
  );
  const insert = db.prepare<[number, number, Buffer]>('INSERT INTO readings_chunks (meter_id, start_ts, data) VALUES (?, ?, ?)');
  for (const meterId of meters) {
    let hour: ReadingRow[] = [];
    let hourStart = -1;
    const close = (): void => {
      if (hour.length > 0) insert.run(meterId, hourStart, encodeChunk(hourStart, hour));
      hour = [];
    };
    let from = -Infinity;
    for (;;) {
      const rows = page.all(meterId, Number.isFinite(from) ? from : -1e15, PAGE_ROWS);
      for (const r of rows) {
        const h = r.ts - (((r.ts % HOUR_S) + HOUR_S) % HOUR_S);
        if (h !== hourStart) {
          close();
          hourStart = h;
        }
        hour.push(r);
      }
      const last = rows[rows.length - 1];
      if (rows.length < PAGE_ROWS || !last) break;
      from = last.ts + 1;
    }
    close();
  }
}

/**
 * The migration step that retires `readings_recent` for the journal (recent-journal.ts): its rows
 * join their hours' chunks (merged with a chunk already there) and the archive's end moves past
 * them, so the journal starts empty. The table holds an hour or two, so this is quick.
 */
export function moveRecentToChunks(db: Database.Database): void {
  const store = db as StoreDb; // inside openDatabase's migration: the schema is current up to here
  const meters = db.prepare<[], number>('SELECT DISTINCT meter_id FROM readings_recent ORDER BY meter_id').pluck().all();
  const rows = db.prepare<[number], ReadingRow>('SELECT ts, layout_id, vals FROM readings_recent WHERE meter_id = ? ORDER BY ts');
  for (const meterId of meters) {
    const byHour = new Map<number, ReadingRow[]>();
    for (const r of rows.all(meterId)) {
      const list = byHour.get(hourOf(r.ts)) ?? [];
      list.push(r);
      byHour.set(hourOf(r.ts), list);
    }
    for (const [hour, list] of byHour) addToChunk(store, meterId, hour, list);
  }
  db.exec(`
    UPDATE readings_archived_upto SET ts = max(ts, coalesce((SELECT max(ts) FROM readings_recent), -1)) WHERE id = 1;
    DROP VIEW readings;
    DROP TABLE readings_recent;
    CREATE VIEW readings AS
      SELECT c.meter_id AS meter_id, r.ts AS ts, r.layout_id AS layout_id, r.vals AS vals FROM readings_chunks c, readings_chunk_rows(c.start_ts, c.data) r
      UNION ALL
      SELECT j.meter_id, j.ts, j.layout_id, j.vals FROM readings_archived_upto u, readings_journal(u.ts) j;
  `);
}
