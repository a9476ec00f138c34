import type Database from 'better-sqlite3';
import { decodeChunk } from './chunk-codec.js';
import { journalOf } from './journal-of.js';

/**
 * readings_journal(upto): the journal's rows (recent-journal.ts) after the archive's end, and
 * readings_chunk_rows(start_ts, data): a chunk's rows as a table, so the `readings` view still shows
 * every reading (tests, ad hoc queries). It decodes whole chunks and cannot bound them by time:
 * code reads through reading-rows.ts instead. Registered on every connection the store opens.
 */
export function registerChunkFunctions(db: Database.Database): void {
  db.table('readings_chunk_rows', {
    columns: ['ts', 'layout_id', 'vals'],
    parameters: ['start_ts', 'data'],
    rows: function* (startTs: unknown, data: unknown) {
      if (typeof startTs !== 'number' || !Buffer.isBuffer(data)) return;
      for (const r of decodeChunk(startTs, data)) yield { ts: r.ts, layout_id: r.layout_id, vals: r.vals };
    },
  });
  db.table('readings_journal', {
    columns: ['meter_id', 'ts', 'layout_id', 'vals'],
    parameters: ['upto'],
    rows: function* (upto: unknown) {
      if (typeof upto !== 'number') return;
      for (const r of journalOf(db).all(upto)) yield { meter_id: r.meterId, ts: r.ts, layout_id: r.layout_id, vals: r.vals };
    },
  });
}
