import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, openReadOnly, type StoreDb } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { archiveReadings } from '../src/store/archive.js';
import { readingTimes } from '../src/store/reading-rows.js';
import { rawSeries } from '../src/store/history.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 4, 10, 0, 0);

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'mgos.db');
}

function open(t: { after: (fn: () => void) => void }, file: string, readOnly = false): StoreDb {
  const db = readOnly ? openReadOnly(file) : openDatabase(file);
  t.after(() => db.open && db.close());
  return db;
}

/** Two meters, one reading each every 10 s for `n` polls from `fromMs`, flushed as one batch. */
function flush(w: ReadingWriter, fromMs: number, n: number): void {
  for (let i = 0; i < n; i++) for (const m of ['a', 'b']) w.add({ meter: m, ts: fromMs + i * 10_000, values: { ActivePower: i, EnergyImport: 100 + i / 100 } });
  w.flush();
}

const journalFiles = (file: string): string[] => (existsSync(`${file}-recent`) ? readdirSync(`${file}-recent`).sort() : []);

test('recent readings are appended to one file per hour beside the database and read back after a restart', (t) => {
  const file = tempFile(t);
  const db = open(t, file);
  const w = new ReadingWriter(db);
  flush(w, T0, 3);
  flush(w, T0 + 30_000, 3);
  flush(w, T0 + HOUR - 10_000, 2); // crosses into the next hour: a record in each file
  assert.deepEqual(journalFiles(file), [`${T0 / 1000}.rj`, `${T0 / 1000 + 3600}.rj`]);
  const before = rawSeries(db, 'a', 'ActivePower', T0, T0 + 2 * HOUR);
  assert.equal(before.length, 8);
  db.close();
  const again = open(t, file);
  assert.deepEqual(rawSeries(again, 'a', 'ActivePower', T0, T0 + 2 * HOUR), before);
  // A duplicate of a stored second is ignored after the restart too.
  const w2 = new ReadingWriter(again);
  w2.add({ meter: 'a', ts: T0, values: { ActivePower: 99 } });
  assert.deepEqual(w2.flush(), { written: 0, ignored: 1 });
});

test('a record torn by a power cut is cut off: the readings before it stay, the next flush is readable', (t) => {
  const file = tempFile(t);
  const db = open(t, file);
  const w = new ReadingWriter(db);
  flush(w, T0, 3);
  flush(w, T0 + 30_000, 3);
  db.close();
  const segment = path.join(`${file}-recent`, `${T0 / 1000}.rj`);
  const whole = statSync(segment).size;
  // Half a record: a length that promises more than follows, as a cut during the write leaves it.
  appendFileSync(segment, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6]));
  const after = open(t, file);
  assert.equal(readingTimes(after, 1).length, 6, 'the whole records are read, the torn one is not');
  const w2 = new ReadingWriter(after);
  flush(w2, T0 + 60_000, 2);
  assert.ok(statSync(segment).size > whole);
  after.close();
  const third = open(t, file);
  assert.deepEqual(
    readingTimes(third, 1),
    [0, 10, 20, 30, 40, 50, 60, 70].map((s) => T0 / 1000 + s),
  );
});

test('a reader on another connection follows what the writer appends, and the hourly move', (t) => {
  const file = tempFile(t);
  const db = open(t, file);
  const w = new ReadingWriter(db);
  flush(w, T0, 3);
  const reader = open(t, file, true);
  assert.equal(readingTimes(reader, 1).length, 3);
  flush(w, T0 + HOUR, 3);
  assert.equal(readingTimes(reader, 1).length, 6, 'the appended records are read on the next query');
  // The first hour moves to the chunks: both connections still see every reading once.
  assert.equal(archiveReadings(db, T0 + HOUR), 6);
  assert.deepEqual(readingTimes(reader, 1), readingTimes(db, 1));
  assert.equal(readingTimes(reader, 1).length, 6);
  assert.equal(db.prepare('SELECT count(*) FROM readings').pluck().get(), 12);
});

test('a moved hour keeps its file one more hour (readers may be on it), then the file goes', (t) => {
  const file = tempFile(t);
  const db = open(t, file);
  const w = new ReadingWriter(db);
  flush(w, T0, 3);
  flush(w, T0 + HOUR, 3);
  flush(w, T0 + 2 * HOUR, 3);
  archiveReadings(db, T0 + HOUR);
  assert.equal(journalFiles(file).length, 3, 'the moved hour is still on disk');
  archiveReadings(db, T0 + 2 * HOUR);
  assert.deepEqual(journalFiles(file), [`${T0 / 1000 + 3600}.rj`, `${T0 / 1000 + 7200}.rj`]);
  // A restart ignores a file whose hour was moved (a crash between the move and the removal).
  db.close();
  const again = open(t, file);
  assert.equal(readingTimes(again, 1).length, 9);
  assert.equal(again.prepare('SELECT count(*) FROM readings').pluck().get(), 18);
});

test('a store in memory keeps its journal in memory: no file is made', (t) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const w = new ReadingWriter(db);
  flush(w, T0, 3);
  assert.equal(readingTimes(db, 1).length, 3);
  assert.equal(existsSync(':memory:-recent'), false);
  assert.equal(archiveReadings(db, T0 + HOUR), 6);
  assert.equal(readingTimes(db, 1).length, 3);
});
