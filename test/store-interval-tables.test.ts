import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import type { IntervalRow } from '../src/store/interval-calc.js';
import {
  deleteIntervalsFrom,
  insertIntervals,
  intervalMoveCutMs,
  lastIntervalStartMs,
  moveIntervals,
  selectIntervals,
  updateInterval,
} from '../src/store/interval-table.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 3, 4);

function open(t: { after: (fn: () => void) => void }): StoreDb {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-intervals-'));
  const db = openDatabase(path.join(dir, 'mgos.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  db.exec("INSERT INTO meters (id, key) VALUES (1, 'a'), (2, 'b')");
  return db;
}

/** `days` days of 15-minute intervals from fromMs, 0.1 kWh each. */
function day(fromMs: number, days = 1): IntervalRow[] {
  return Array.from({ length: 96 * days }, (_, i) => ({
    startMs: fromMs + i * 900_000,
    energyImportKWh: 0.1,
    energyExportKWh: 0,
    powerAvgW: 400,
    powerMinW: 300,
    powerMaxW: 500,
    voltageMinV: 228,
    voltageMaxV: 232,
    samples: 90,
  }));
}

const count = (db: StoreDb, table: string): number => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get() ?? 0;

test('new intervals go to the recent table; the days before yesterday move to the archive and read back the same', (t) => {
  const db = open(t);
  for (const m of [1, 2]) insertIntervals(db, m, day(T0, 3));
  assert.equal(count(db, 'intervals_recent'), 2 * 3 * 96);
  const before = selectIntervals(db, 1, T0, T0 + 3 * DAY);
  const now = T0 + 2 * DAY + 3_600_000; // an hour into the third day: the first day moves
  assert.equal(intervalMoveCutMs(now), T0 + DAY);
  assert.equal(moveIntervals(db, intervalMoveCutMs(now)), 2 * 96);
  assert.equal(moveIntervals(db, intervalMoveCutMs(now)), 0, 'done already');
  assert.equal(count(db, 'intervals_archive'), 2 * 96);
  assert.equal(count(db, 'intervals_recent'), 2 * 2 * 96);
  assert.deepEqual(selectIntervals(db, 1, T0, T0 + 3 * DAY), before);
  assert.equal(lastIntervalStartMs(db, 1), T0 + 3 * DAY - 900_000);
  // An interval already in the archive is not stored again in the recent table.
  insertIntervals(db, 1, day(T0).slice(0, 2));
  assert.equal(count(db, 'intervals'), 2 * 3 * 96);
});

test('an interval is changed and deleted wherever it lives', (t) => {
  const db = open(t);
  insertIntervals(db, 1, day(T0, 2));
  moveIntervals(db, T0 + DAY);
  const archived = T0 / 1000 + 900;
  const recent = (T0 + DAY) / 1000 + 900;
  assert.ok(updateInterval(db, 1, archived, { status: 'quarantined', reason: 'counter went back', e_imp_kwh: null }));
  assert.ok(updateInterval(db, 1, recent, { e_imp_kwh: 0.25 }));
  assert.equal(updateInterval(db, 2, recent, { e_imp_kwh: 1 }), false, 'meter b has no intervals');
  const rows = selectIntervals(db, 1, T0, T0 + 2 * DAY);
  const [archivedRow, recentRow] = [rows[1], rows[96 + 1]];
  assert.ok(archivedRow && recentRow);
  assert.equal(archivedRow.status, 'quarantined');
  assert.equal(archivedRow.energyImportKWh, null);
  assert.equal(recentRow.energyImportKWh, 0.25);
  // From noon of the first day on: half of the archive's day and all of the recent one.
  assert.equal(deleteIntervalsFrom(db, T0 + DAY / 2, 1), 48 + 96);
  assert.equal(lastIntervalStartMs(db, 1), T0 + DAY / 2 - 900_000);
});
