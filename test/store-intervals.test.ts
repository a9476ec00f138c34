import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type StoreDb } from '../src/store/database.js';
import { ReadingWriter, type Reading } from '../src/store/reading-writer.js';
import { computeIntervals, type IntervalRow, type IntervalSample } from '../src/store/interval-calc.js';
import { buildIntervals } from '../src/store/intervals.js';
import { intervals } from '../src/store/history.js';
import { deleteIntervalsFrom } from '../src/store/interval-table.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 3, 4, 12, 0, 0);

/**
 * One reading a minute for minutes 0-31 and 67-80 (a gap from 32 to 66). The import counter runs
 * at 0.03 kWh/min, steps back at minute 20 (reads 0.02) and reads 1.00 kWh more after the gap.
 * The export counter jitters 5.00 -> 4.99 -> 5.00 (noise, no energy). Power 1000 + 100*(k mod 15) W,
 * missing at minute 3. Voltage dips to 220 V (L1) at minute 5 and peaks at 240 V (L3) at minute 9.
 */
const MINUTES = [...Array.from({ length: 32 }, (_, k) => k), ...Array.from({ length: 14 }, (_, i) => 67 + i)];
function importAt(k: number): number {
  if (k < 20) return 100 + 0.03 * k;
  if (k <= 31) return 0.02 + 0.03 * (k - 20);
  return 1.35 + 0.03 * (k - 67);
}
function valuesAt(k: number): Record<string, number> {
  const v: Record<string, number> = {
    Voltage_L1: k === 5 ? 220 : 230,
    Voltage_L2: 231,
    Voltage_L3: k === 9 ? 240 : 229,
    EnergyImport: importAt(k),
    EnergyExport: k === 10 ? 4.99 : 5,
  };
  if (k !== 3) v.ActivePower = 1000 + 100 * (k % 15);
  return v;
}
const readings: Reading[] = MINUTES.map((k) => ({ meter: 'm1', ts: T0 + k * MIN, values: valuesAt(k) }));

const row = (
  min: number,
  e: number,
  pAvg: number | null,
  pMin: number | null,
  pMax: number | null,
  vMin: number | null,
  vMax: number | null,
  samples: number,
): IntervalRow => ({
  startMs: T0 + min * MIN,
  energyImportKWh: e,
  energyExportKWh: 0,
  powerAvgW: pAvg,
  powerMinW: pMin,
  powerMaxW: pMax,
  voltageMinV: vMin,
  voltageMaxV: vMax,
  samples,
});
/** Worked out by hand; see the series description above. */
const EXPECTED: IntervalRow[] = [
  row(0, 0.45, 1728.571, 1000, 2400, 220, 240, 15), // power at minute 3 missing: (14*1000 + 100*(105-3)) / 14, stored to the mW
  // 100.45 -> 100.57, steps back to 0.02 (a fault: quarantined, what the counters add up to kept aside), 0.02 -> 0.32
  {
    ...row(15, 0, 1700, 1000, 2400, 229, 231, 15),
    energyImportKWh: null,
    energyExportKWh: null,
    status: 'quarantined',
    suspectImportKWh: 0.42,
    suspectExportKWh: 0,
  },
  row(30, 0.03, 1050, 1000, 1100, 229, 231, 2), // boundary 45: nothing within 5 min after, carry minute 31
  row(45, 0, null, null, null, null, null, 0), // inside the gap
  row(60, 1.24, 2050, 1700, 2400, 229, 231, 8), // the gap's 1.00 kWh lands where readings resume, + 8 min * 0.03
  row(75, 0.15, 1250, 1000, 1500, 229, 231, 6),
];

function assertRows(actual: readonly IntervalRow[], expected: readonly IntervalRow[]): void {
  assert.equal(actual.length, expected.length, 'number of intervals');
  actual.forEach((a, i) => {
    const e = expected[i] as IntervalRow;
    for (const key of Object.keys(e) as (keyof IntervalRow)[]) {
      const [x, y] = [a[key], e[key]];
      if (typeof x !== 'number' || typeof y !== 'number') assert.equal(x, y, `${new Date(e.startMs).toISOString()} ${key}`);
      else assert.ok(Math.abs(x - y) < 1e-6, `${new Date(e.startMs).toISOString()} ${key}: ${x} != ${y}`);
    }
  });
}

function toSample(r: Reading): IntervalSample {
  const v = (c: string): number => r.values[c] ?? NaN;
  return {
    ts: r.ts,
    activePowerW: v('ActivePower'),
    voltagesV: [v('Voltage_L1'), v('Voltage_L2'), v('Voltage_L3')],
    energyImportKWh: v('EnergyImport'),
    energyExportKWh: v('EnergyExport'),
  };
}

test('computeIntervals: energy, average/min/max power and voltage across a backwards step and a gap', () => {
  const rows = computeIntervals(readings.map(toSample), T0, T0 + 90 * MIN);
  assertRows(rows, EXPECTED);
  assert.match(rows[1]?.reason ?? '', /import counter stepped back from 100\.57 to 0\.02 kWh at 2026-04-04T12:20:00\.000Z/);
});

test('computeIntervals: boundaries are interpolated when readings are near on both sides, else the nearest reading is used', () => {
  const s = (ms: number, kwh: number): IntervalSample => ({ ts: T0 + ms, activePowerW: NaN, voltagesV: [], energyImportKWh: kwh, energyExportKWh: NaN });
  const samples = [s(-14 * MIN, 9.0), s(-20_000, 10.0), s(40_000, 10.6), s(14 * MIN, 11.0), s(15 * MIN + 30_000, 11.1)];
  const rows = computeIntervals(samples, T0 - 15 * MIN, T0 + 15 * MIN);
  // -15 min: nothing before, 9.0 is 1 min after (nearest). 0: 10.0 + 0.6 * 20/60 = 10.2.
  // +15 min: 11.0 + 0.1 * 60/90 between readings 60 s before and 30 s after.
  assert.ok(Math.abs((rows[0]?.energyImportKWh ?? NaN) - 1.2) < 1e-6);
  assert.ok(Math.abs((rows[1]?.energyImportKWh ?? NaN) - (11.0 + 0.1 * (60 / 90) - 10.2)) < 1e-6);
  assert.equal(rows[0]?.energyExportKWh, null, 'no export counter: unknown, not 0');
});

test('computeIntervals: a configured rollover counts the energy across the wrap', () => {
  const s = (min: number, kwh: number): IntervalSample => ({
    ts: T0 + min * MIN,
    activePowerW: NaN,
    voltagesV: [],
    energyImportKWh: kwh,
    energyExportKWh: NaN,
  });
  const samples = [s(0, 999999.8), s(5, 999999.95), s(10, 0.15), s(15, 0.3)];
  const [wrapped] = computeIntervals(samples, T0, T0 + 15 * MIN, { counter: { rollover: 999999.99 } });
  assert.ok(Math.abs((wrapped?.energyImportKWh ?? NaN) - 0.49) < 1e-6);
  const [fault] = computeIntervals(samples, T0, T0 + 15 * MIN);
  assert.equal(fault?.status, 'quarantined', 'without rollover the step back is a fault');
  assert.equal(fault.energyImportKWh, null);
});

function tempDb(t: { after: (fn: () => void) => void }): { file: string; db: StoreDb } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-store-'));
  const file = path.join(dir, 'mgos.db');
  const db = openDatabase(file);
  t.after(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { file, db };
}

function store(db: StoreDb, rs: readonly Reading[]): void {
  const w = new ReadingWriter(db);
  rs.forEach((r) => w.add(r));
  w.flush();
}

test('buildIntervals from the file: same rows as by hand, built incrementally, idempotent and restart-safe', (t) => {
  const { file, db } = tempDb(t);
  store(
    db,
    readings.filter((r) => r.ts <= T0 + 31 * MIN),
  );
  // At 12:50 only intervals that ended 5 min (nearMs) ago are final: 12:00, 12:15, 12:30.
  assert.equal(buildIntervals(db, T0 + 50 * MIN), 3);
  assert.equal(buildIntervals(db, T0 + 50 * MIN), 0, 'nothing twice');
  store(
    db,
    readings.filter((r) => r.ts > T0 + 31 * MIN),
  );
  assert.equal(buildIntervals(db, T0 + 120 * MIN), 3);
  assertRows(intervals(db, 'm1', T0, T0 + 120 * MIN), EXPECTED);

  db.close();
  const reopened = openDatabase(file);
  t.after(() => reopened.close());
  assert.equal(buildIntervals(reopened, T0 + 120 * MIN), 0, 'a restart builds nothing again');
  // Rebuilt from scratch in one go: identical to the incremental build.
  assert.equal(deleteIntervalsFrom(reopened, 0), 6);
  assert.equal(buildIntervals(reopened, T0 + 120 * MIN), 6);
  assertRows(intervals(reopened, 'm1', T0, T0 + 120 * MIN), EXPECTED);
});

test('buildIntervals: the newest interval waits until nearMs has passed after it, and intervals stop at the newest reading', (t) => {
  const { db } = tempDb(t);
  store(db, readings);
  assert.equal(buildIntervals(db, T0 + 94 * MIN), 5, '12:75-12:90 is not final until 12:95');
  assert.equal(buildIntervals(db, T0 + 95 * MIN), 1);
  assert.equal(buildIntervals(db, T0 + 10 * 60 * MIN), 0, 'no empty intervals after a meter goes quiet');
});

test('buildIntervals: counter options per meter', (t) => {
  const { db } = tempDb(t);
  store(db, [
    { meter: 'a', ts: T0, values: { EnergyImport: 999999.8 } },
    { meter: 'a', ts: T0 + 15 * MIN, values: { EnergyImport: 0.2 } },
  ]);
  buildIntervals(db, T0 + 60 * MIN, { counterFor: (m) => (m === 'a' ? { rollover: 999999.99 } : {}) });
  assert.ok(Math.abs((intervals(db, 'a', T0, T0 + 15 * MIN)[0]?.energyImportKWh ?? NaN) - 0.39) < 1e-6);
});

test('buildIntervals: a backlog is built over several calls when it exceeds maxIntervals', (t) => {
  const { db } = tempDb(t);
  store(db, [...readings, ...readings.map((r) => ({ ...r, meter: 'm2' }))]);
  assert.equal(buildIntervals(db, T0 + 120 * MIN, { maxIntervals: 1 }), 6, 'one meter-day at least');
  assert.equal(buildIntervals(db, T0 + 120 * MIN, { maxIntervals: 1 }), 6, 'the next meter on the next call');
  assert.equal(buildIntervals(db, T0 + 120 * MIN, { maxIntervals: 1 }), 0);
  assertRows(intervals(db, 'm2', T0, T0 + 120 * MIN), EXPECTED);
});
