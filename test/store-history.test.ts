import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreDb } from '../src/store/database.js';
import { tempDb } from './helpers/temp-db.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { insertIntervals } from '../src/store/interval-table.js';
import { dailyEnergy, intervals } from '../src/store/history.js';
import type { IntervalRow } from '../src/store/interval-calc.js';
import { ZonedClock } from '../src/store/zoned-clock.js';

function interval(iso: string, imp: number, exp: number): IntervalRow {
  return {
    startMs: Date.parse(iso),
    energyImportKWh: imp,
    energyExportKWh: exp,
    powerAvgW: 1,
    powerMinW: 1,
    powerMaxW: 1,
    voltageMinV: 230,
    voltageMaxV: 230,
    samples: 90,
  };
}

function meterId(db: StoreDb, key: string): number {
  const w = new ReadingWriter(db);
  w.add({ meter: key, ts: 0, values: { ActivePower: 0 } });
  w.flush();
  return (db.prepare('SELECT id FROM meters WHERE key = ?').get(key) as { id: number }).id;
}

test('dailyEnergy groups intervals by local day in Africa/Kampala (UTC+3)', (t) => {
  const db = tempDb(t);
  insertIntervals(db, meterId(db, 'meter12'), [
    interval('2026-04-04T20:30:00Z', 1, 0), // 23:30 local, 4 April
    interval('2026-04-04T20:45:00Z', 2, 0.5), // 23:45 local
    interval('2026-04-04T21:00:00Z', 4, 0), // 00:00 local, 5 April
    interval('2026-04-04T21:15:00Z', 8, 0.25),
    interval('2026-04-05T20:45:00Z', 16, 0), // 23:45 local, still 5 April
    interval('2026-04-06T21:00:00Z', 32, 0), // 00:00 local, 7 April; a day without data in between
  ]);
  const from = Date.parse('2026-04-04T21:00:00Z') - 86_400_000;
  assert.deepEqual(dailyEnergy(db, 'meter12', from, from + 4 * 86_400_000, 'Africa/Kampala'), [
    { day: '2026-04-04', importKWh: 3, exportKWh: 0.5 },
    { day: '2026-04-05', importKWh: 28, exportKWh: 0.25 },
    { day: '2026-04-07', importKWh: 32, exportKWh: 0 },
  ]);
  // The same intervals in UTC fall on other days.
  assert.deepEqual(
    dailyEnergy(db, 'meter12', from, from + 4 * 86_400_000, 'UTC').map((d) => [d.day, d.importKWh]),
    [
      ['2026-04-04', 15],
      ['2026-04-05', 16],
      ['2026-04-06', 32],
    ],
  );
  assert.deepEqual(dailyEnergy(db, 'nobody', from, from + 86_400_000, 'Africa/Kampala'), []);
});

// How fast is measured by bench/history.ts (50 ms goal), not asserted here: a test must not fail on a busy machine.
test('intervals() returns a range [from, to) and a year of 15-minute data for one meter', (t) => {
  const db = tempDb(t);
  const id = meterId(db, 'meter1');
  const start = Date.UTC(2025, 0, 1);
  const rows = Array.from({ length: 35_040 }, (_, i) => interval(new Date(start + i * 900_000).toISOString(), 0.1, 0));
  insertIntervals(db, id, rows);
  assert.equal(intervals(db, 'meter1', start + 900_000, start + 3 * 900_000).length, 2);
  const year = intervals(db, 'meter1', start, start + 365 * 86_400_000);
  assert.equal(year.length, 35_040);
  assert.deepEqual(year[0], rows[0]);
  assert.deepEqual(year[year.length - 1], rows[rows.length - 1]);
});

test('ZonedClock: local time, day ranges in zones with DST and odd offsets', () => {
  const kampala = new ZonedClock('Africa/Kampala');
  assert.equal(kampala.format(Date.parse('2026-04-04T12:15:00.700Z')), '2026-04-04 15:15:00');
  assert.deepEqual(kampala.dayRange('2026-04-05'), [Date.parse('2026-04-04T21:00:00Z'), Date.parse('2026-04-05T21:00:00Z')]);
  const berlin = new ZonedClock('Europe/Berlin');
  const [s, e] = berlin.dayRange('2026-03-29'); // clocks go forward: a 23-hour day
  assert.equal(e - s, 23 * 3_600_000);
  const [s2, e2] = berlin.dayRange('2026-10-25'); // and back: 25 hours
  assert.equal(e2 - s2, 25 * 3_600_000);
  assert.equal(berlin.format(Date.parse('2026-10-25T00:30:00Z')), '2026-10-25 02:30:00');
  assert.equal(berlin.format(Date.parse('2026-10-25T01:30:00Z')), '2026-10-25 02:30:00');
  assert.equal(new ZonedClock('Asia/Kathmandu').format(Date.parse('2026-04-04T18:15:00Z')), '2026-04-05 00:00:00');
  assert.throws(() => new ZonedClock('Mars/Olympus'), RangeError);
  assert.throws(() => kampala.dayRange('4/4/2026'), /YYYY-MM-DD/);
});
