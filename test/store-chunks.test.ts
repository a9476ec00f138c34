import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { archiveReadings, archivedUptoS } from '../src/store/archive.js';
import { chunkTimes, decodeChunk, encodeChunk } from '../src/store/chunk-codec.js';
import { readingRows, readingTimes } from '../src/store/reading-rows.js';
import { latestReading, rawSeries } from '../src/store/history.js';
import { counterReading } from '../src/store/counter-reading.js';
import { convertArchiveToChunks } from '../src/store/archive-migration.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { encodeValues, layoutFor } from '../src/store/codec.js';
import { pruneRawReadings } from '../src/store/retention.js';
import type { ReadingRow } from '../src/store/registry.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 4, 10, 0, 0);

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-chunks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'mgos.db');
}

function openTemp(t: { after: (fn: () => void) => void }, file = tempFile(t)): StoreDb {
  const db = openDatabase(file);
  t.after(() => db.open && db.close());
  return db;
}

const count = (db: StoreDb, sql: string): number => db.prepare<[], number>(sql).pluck().get() ?? 0;
/** Readings in the journal after the archive's end (the store's table function over the journal). */
const JOURNAL_COUNT = 'SELECT count(*) FROM readings_archived_upto u, readings_journal(u.ts)';

/** Three meters at 10 s for `hours`, energy every 6th poll (a second layout), one duplicate second. */
function record(w: ReadingWriter, fromMs: number, hours: number): void {
  for (let i = 0; i < hours * 360; i++) {
    for (const m of ['m1', 'm2', 'm3']) {
      const values: Record<string, number> = { ActivePower: 100 + Math.sin(i) * 50, Voltage: 230 + (i % 7) * 0.1 };
      if (i % 6 === 0) values.EnergyImport = 1234.56 + i * 0.01;
      w.add({ meter: m, ts: fromMs + i * 10_000, values });
    }
  }
}

test('an hourly chunk reads back every row byte for byte, with its layouts; timestamps read without inflating', () => {
  const a = layoutFor(['ActivePower', 'Voltage']);
  const b = layoutFor(['ActivePower', 'Voltage', 'EnergyImport']);
  const start = T0 / 1000;
  const rows: ReadingRow[] = [];
  for (let i = 0; i < 360; i++) {
    const layout = i % 6 === 0 ? b : a;
    rows.push({
      ts: start + i * 10 + (i % 3),
      layout_id: i % 6 === 0 ? 2 : 1,
      vals: encodeValues(layout, { ActivePower: Math.random() * 5000, Voltage: 229 + Math.random(), EnergyImport: 1e6 + i / 100 }),
    });
  }
  const blob = encodeChunk(start, rows);
  assert.deepEqual(decodeChunk(start, blob), rows);
  assert.deepEqual(
    chunkTimes(start, blob),
    rows.map((r) => r.ts),
  );
  assert.ok(blob.length < rows.reduce((s, r) => s + r.vals.length, 0), `compressed: ${blob.length} bytes`);
  assert.deepEqual(decodeChunk(start, encodeChunk(start, [])), []);
  assert.throws(() => encodeChunk(start, [rows[1] as ReadingRow, rows[0] as ReadingRow]), /out of order/);
});

test('readers span the hourly chunks and the recent table: one series, no gap, no duplicate, in both directions', (t) => {
  const db = openTemp(t);
  const w = new ReadingWriter(db);
  record(w, T0, 3);
  w.flush();
  const all = readingTimes(db, 1);
  assert.equal(all.length, 3 * 360);
  // The first two hours become chunks; the third stays recent.
  assert.equal(archiveReadings(db, T0 + 2 * HOUR), 3 * 2 * 360);
  assert.equal(count(db, 'SELECT count(*) FROM readings_chunks'), 6);
  assert.equal(count(db, JOURNAL_COUNT), 3 * 360);
  assert.equal(archivedUptoS(db), (T0 + 2 * HOUR) / 1000 - 1);
  assert.deepEqual(readingTimes(db, 1), all);
  assert.deepEqual(readingTimes(db, 1, { desc: true }), [...all].reverse());
  // A range across the boundary, with a limit, both ways.
  const from = (T0 + 2 * HOUR) / 1000 - 50;
  assert.deepEqual(
    readingRows(db, 1, { fromS: from, limit: 10 }).map((r) => r.ts),
    all.filter((x) => x >= from).slice(0, 10),
  );
  assert.deepEqual(
    readingRows(db, 1, { toS: from + 100, desc: true, limit: 20 }).map((r) => r.ts),
    all
      .filter((x) => x < from + 100)
      .reverse()
      .slice(0, 20),
  );
  // The history API, the counter lookup and the view see the same values as before the move.
  const series = rawSeries(db, 'm2', 'ActivePower', T0, T0 + 3 * HOUR);
  assert.equal(series.length, 3 * 360);
  assert.equal(series[0]?.[1], Math.fround(100) === 100 ? 100 : series[0]?.[1]);
  assert.equal(counterReading(db, 1, 'EnergyImport', T0 + 2 * HOUR - 1)?.ts, T0 + 714 * 10_000);
  assert.equal(latestReading(db, 'm3')?.ts, T0 + (3 * 360 - 1) * 10_000);
  assert.equal(count(db, 'SELECT count(*) FROM readings'), 3 * 3 * 360);
  // A late reading for an archived hour joins its chunk; a duplicate of a stored second is ignored.
  assert.deepEqual(w.flush(), { written: 0, ignored: 0 });
  w.add({ meter: 'm1', ts: T0 + 5_000, values: { ActivePower: 7 } });
  w.add({ meter: 'm1', ts: T0 + 10_000, values: { ActivePower: 8 } });
  assert.deepEqual(w.flush(), { written: 1, ignored: 1 });
  assert.deepEqual(
    rawSeries(db, 'm1', 'ActivePower', T0, T0 + 20_000).map(([ts]) => ts),
    [T0, T0 + 5_000, T0 + 10_000],
  );
  assert.equal(count(db, 'SELECT count(*) FROM readings_chunks'), 6);
});

test('a move that fails part-way leaves every reading where it was: no duplicate, no loss', (t) => {
  const db = openTemp(t);
  const w = new ReadingWriter(db);
  record(w, T0, 3);
  w.flush();
  const before = readingRows(db, 2);
  // The disk fails on the second meter's chunk of the second hour.
  db.exec(
    `CREATE TEMP TRIGGER fail BEFORE INSERT ON readings_chunks WHEN NEW.start_ts = ${(T0 + HOUR) / 1000} AND NEW.meter_id = 2 BEGIN SELECT RAISE(ABORT, 'simulated disk error'); END`,
  );
  assert.throws(() => archiveReadings(db, T0 + 2 * HOUR), /simulated disk error/);
  assert.equal(count(db, 'SELECT count(*) FROM readings_chunks'), 0);
  assert.equal(count(db, JOURNAL_COUNT), 3 * 3 * 360);
  assert.equal(archivedUptoS(db), -1);
  assert.deepEqual(readingRows(db, 2), before);
  db.exec('DROP TRIGGER fail');
  assert.equal(archiveReadings(db, T0 + 2 * HOUR), 3 * 2 * 360);
  assert.deepEqual(readingRows(db, 2), before);
  assert.equal(archiveReadings(db, T0 + 2 * HOUR), 0, 'done already');
});

test('the migration turns an old archive (a row per reading) into chunks, and retention trims them exactly', async (t) => {
  const file = tempFile(t);
  const convertAt = MIGRATIONS.indexOf(convertArchiveToChunks);
  assert.ok(convertAt > 0);
  // A file at the version before the chunks: rows in readings_archive and readings_recent.
  const old = openDatabase(file, { migrations: MIGRATIONS.slice(0, convertAt - 1) });
  // Written as the old writer did (this writer reads the chunks, which that file does not have yet).
  const scratch = openTemp(t);
  const w = new ReadingWriter(scratch);
  record(w, T0, 3);
  w.flush();
  old.exec("INSERT INTO meters (id, key) VALUES (1, 'm1'), (2, 'm2'), (3, 'm3')");
  for (const l of scratch.prepare<[], { id: number; spec: string }>('SELECT id, spec FROM layouts').all())
    old.prepare('INSERT INTO layouts (id, spec) VALUES (?, ?)').run(l.id, l.spec);
  const insert = old.prepare('INSERT INTO readings_recent (meter_id, ts, layout_id, vals) VALUES (?, ?, ?, ?)');
  for (const r of scratch.prepare<[], ReadingRow & { meter_id: number }>('SELECT meter_id, ts, layout_id, vals FROM readings').all())
    insert.run(r.meter_id, r.ts, r.layout_id, r.vals);
  const expected = [1, 2, 3].map((m) => old.prepare<[number], ReadingRow>('SELECT ts, layout_id, vals FROM readings WHERE meter_id = ? ORDER BY ts').all(m));
  old.exec(
    `INSERT INTO readings_archive SELECT meter_id, ts, layout_id, vals FROM readings_recent WHERE ts < ${(T0 + 2 * HOUR) / 1000}; DELETE FROM readings_recent WHERE ts < ${(T0 + 2 * HOUR) / 1000}; UPDATE readings_archived_upto SET ts = ${(T0 + 2 * HOUR) / 1000 - 1}`,
  );
  old.close();
  const db = openTemp(t, file);
  assert.equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'readings_archive'"), 0);
  // Two hours from the archive; the third, still recent, was moved to the chunks when the journal came.
  assert.equal(count(db, 'SELECT count(*) FROM readings_chunks'), 9);
  assert.equal(count(db, JOURNAL_COUNT), 0);
  for (const m of [1, 2, 3]) assert.deepEqual(readingRows(db, m), expected[m - 1]);
  // Retention at 30 minutes into the first hour: the straddling chunks are rewritten without their old rows.
  const cut = T0 + HOUR / 2;
  assert.equal(await pruneRawReadings(db, cut, 100), 3 * 180);
  for (const m of [1, 2, 3])
    assert.deepEqual(
      readingRows(db, m),
      expected[m - 1]?.filter((r) => r.ts >= cut / 1000),
    );
  assert.equal(count(db, `SELECT count(*) FROM readings WHERE ts < ${cut / 1000}`), 0);
});
