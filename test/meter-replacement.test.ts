import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreDb } from '../src/store/database.js';
import { tempDb } from './helpers/temp-db.js';
import { ReadingWriter, type Reading } from '../src/store/reading-writer.js';
import { buildIntervals } from '../src/store/intervals.js';
import { intervals } from '../src/store/history.js';
import { listQuarantined, resolutionOf } from '../src/store/quarantine.js';
import { recordReplacement } from '../src/commissioning/inventory/meter-replacement.js';
import { InventoryError } from '../src/commissioning/inventory/error.js';
import { manualClock } from '../src/util/clock.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T00:00:00+03:00');
const LIMIT_W = 21_160;
const opts = { maxPowerWFor: () => LIMIT_W };

/**
 * 0.01 kWh a minute throughout. The old meter reads 5000 + 0.01 k up to minute 20; it is swapped at
 * 20:30 (old final 5000.205, new first 0.000) and the new meter reads 0.005 + 0.01 (k - 21) after.
 */
const SWAP = T0 + 20.5 * MIN;
const counterAt = (k: number): number => (k <= 20 ? 5000 + 0.01 * k : 0.005 + 0.01 * (k - 21));
const readings: Reading[] = Array.from({ length: 61 }, (_, k) => ({
  meter: 'meter7',
  ts: T0 + k * MIN,
  values: { EnergyImport: counterAt(k), EnergyExport: 0 },
}));
const swap = {
  meter: 'meter7',
  atMs: SWAP,
  oldSerial: 'A-1',
  newSerial: 'B-2',
  oldFinalImportKWh: 5000.205,
  newFirstImportKWh: 0,
  oldFinalExportKWh: 0,
  newFirstExportKWh: 0,
  why: 'display dead, meter swapped',
};

function store(db: StoreDb): void {
  const w = new ReadingWriter(db);
  readings.forEach((r) => w.add(r));
  w.flush();
}

const energies = (db: StoreDb): (number | null)[] => intervals(db, 'meter7', T0, T0 + 60 * MIN).map((r) => r.energyImportKWh);

test('a replacement recorded before the intervals are built: energy across the swap is counted from both meters', (t) => {
  const db = tempDb(t);
  store(db);
  const clock = manualClock(T0 + 30 * MIN);
  recordReplacement({ db, clock, buildOptions: opts }, swap, 'ivan');
  buildIntervals(db, T0 + 70 * MIN, opts);
  assert.deepEqual(energies(db), [0.15, 0.15, 0.15, 0.15]);
  assert.equal(listQuarantined(db).length, 0);
});

test('a replacement recorded after the swap was quarantined resolves the interval with the energy of both meters, once', (t) => {
  const db = tempDb(t);
  store(db);
  buildIntervals(db, T0 + 70 * MIN, opts);
  assert.deepEqual(energies(db), [0.15, null, 0.15, 0.15], 'without the event the step back is never taken for a replacement');
  const clock = manualClock(T0 + 2 * 3600_000);
  const { resolved } = recordReplacement({ db, clock, buildOptions: opts }, swap, 'ivan');
  assert.equal(resolved.length, 1);
  assert.deepEqual(energies(db), [0.15, 0.15, 0.15, 0.15]);
  const r = resolutionOf(db, 'meter7', T0 + 15 * MIN);
  assert.equal(r?.action, 'replacement');
  assert.equal(r.by, 'ivan');
  assert.match(r.why, /meter replacement #1: display dead/);
  assert.throws(
    () => recordReplacement({ db, clock, buildOptions: opts }, swap, 'ivan'),
    (e: unknown) => e instanceof InventoryError && e.kind === 'conflict',
  );
});

test('a replacement whose readings contradict the stored ones is refused with a sentence naming the field', (t) => {
  const db = tempDb(t);
  store(db);
  const d = { db, clock: manualClock(T0 + 2 * 3600_000), buildOptions: opts };
  assert.throws(
    () => recordReplacement(d, { ...swap, oldFinalImportKWh: 4000 }, 'ivan'),
    /^Error: oldFinalImportKWh: found 4000 kWh, but the old meter already showed 5000\.2 kWh/,
  );
  assert.throws(() => recordReplacement(d, { ...swap, newFirstImportKWh: 3 }, 'ivan'), /newFirstImportKWh: found 3 kWh, but the new meter showed 0\.005 kWh/);
  assert.throws(() => recordReplacement(d, { ...swap, atMs: T0 + 3 * 3600_000 }, 'ivan'), /at: found .* in the future/);
  assert.throws(() => recordReplacement(d, { ...swap, meter: 'meter99' }, 'ivan'), /meter: nothing is stored for "meter99"/);
});
