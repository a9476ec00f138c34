import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { buildIntervals } from '../src/store/intervals.js';
import { archiveCutMs, archiveReadings } from '../src/store/archive.js';
import { pruneBatch, pruneRawReadings, retentionCutoffMs } from '../src/store/retention.js';

const DAY = 86_400_000;
const count = (db: StoreDb, sql: string): number => (db.prepare(sql).get() as { n: number }).n;

test('retention deletes raw readings older than N days, in bounded batches, and keeps every interval', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-store-'));
  const db = openDatabase(path.join(dir, 'mgos.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const now = Date.UTC(2026, 5, 1);
  const w = new ReadingWriter(db);
  // Three meters, one reading an hour for 100 days.
  for (let h = 0; h < 100 * 24; h++) {
    for (const m of ['a', 'b', 'c']) w.add({ meter: m, ts: now - 100 * DAY + h * 3_600_000, values: { ActivePower: h, EnergyImport: h } });
  }
  w.flush();
  // As the recorder does after each flush: the closed hours move from the journal to the chunks.
  archiveReadings(db, archiveCutMs(now));
  buildIntervals(db, now, { maxIntervals: Infinity });
  const intervalsBefore = count(db, 'SELECT count(*) AS n FROM intervals');
  assert.ok(intervalsBefore > 9000);

  const cutoff = retentionCutoffMs(now, 90);
  assert.equal(pruneBatch(db, cutoff, 7), 7, 'one batch deletes at most its size');
  const deleted = await pruneRawReadings(db, cutoff, 50);
  assert.equal(7 + deleted, 3 * 10 * 24);
  assert.equal(count(db, 'SELECT count(*) AS n FROM readings'), 3 * 90 * 24);
  assert.equal(count(db, `SELECT count(*) AS n FROM readings WHERE ts < ${cutoff / 1000}`), 0);
  assert.equal(count(db, 'SELECT count(*) AS n FROM intervals'), intervalsBefore);
  assert.equal(await pruneRawReadings(db, cutoff), 0, 'nothing left to delete');
});
