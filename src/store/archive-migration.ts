import type Database from 'better-sqlite3';
import { encodeChunk } from './chunk-codec.js';
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
