import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import {
  EMPTY_COMPLIANCE,
  measureFlows,
  observe,
  pruneDays,
  sumDays,
  toleranceW,
  ZERO_DAY,
  type ComplianceState,
  type Sample,
} from '../src/csip/compliance.js';
import { ComplianceStore } from '../src/csip/compliance-store.js';

// The compliance figures on hand-made samples (one a second), where every figure can be worked out by hand.

const T0 = Date.UTC(2026, 2, 10, 9, 0, 0);
const DAY = '2026-03-10';
const none = { export: null, import: null, generation: null, load: null };

function run(samples: readonly Sample[], maxGapMs = 5000): ComplianceState {
  return samples.reduce((st, s) => observe(st, s, maxGapMs), EMPTY_COMPLIANCE);
}

const sample = (i: number, exportW: number | null, limitW: number, event: { mRID: string; startMs: number } | null = null, day = DAY): Sample => ({
  at: T0 + i * 1000,
  day,
  limits: { export: { limitW, event: event ? { ...event, programMRID: 'P1' } : null } },
  measured: { ...none, export: exportW },
});

test('tolerance is the lower of 4 % or 100 W', () => {
  assert.equal(toleranceW(1500), 60);
  assert.equal(toleranceW(2500), 100);
  assert.equal(toleranceW(10_000), 100);
});

test('seconds within and above, energy and the largest excess, each interval counted with the sample that began it', () => {
  // Limit 1500 W (tolerance 60 W): 1550 is within, 1700 above by 200 W, 2100 above by 600 W.
  const st = run([
    sample(0, 1550, 1500),
    sample(1, 1700, 1500),
    sample(2, 1700, 1500),
    sample(3, 2100, 1500),
    sample(4, 1400, 1500),
    sample(5, null, 1500),
    sample(6, 1000, 1500),
  ]);
  const d = st.days[DAY]?.export;
  assert.ok(d);
  assert.equal(d.withinS, 2); // [0,1) and [4,5)
  assert.equal(d.aboveS, 3); // [1,2), [2,3), [3,4)
  assert.equal(d.unmeasuredS, 1); // [5,6)
  assert.equal(d.maxExcessW, 600);
  assert.equal(d.maxExcessAt, T0 + 3000);
  // (200 + 200 + 600) W for one second each.
  assert.ok(Math.abs(d.excessWh - 1000 / 3600) < 1e-9, `excess ${d.excessWh} Wh`);
  assert.equal(st.days[DAY]?.import, undefined, 'no import limit, no import figures');
});

test('a gap longer than maxGapMs (a stall or a restart) is not counted', () => {
  const st = run([sample(0, 2000, 1500), sample(1, 2000, 1500), sample(60, 2000, 1500), sample(61, 2000, 1500)]);
  assert.equal(st.days[DAY]?.export?.aboveS, 2);
});

test('an interval is counted on the day of the sample that began it; pruneDays keeps the newest', () => {
  const st = run([sample(0, 0, 1500, null, '2026-03-09'), sample(1, 0, 1500, null, '2026-03-10'), sample(2, 0, 1500, null, '2026-03-10')]);
  assert.equal(st.days['2026-03-09']?.export?.withinS, 1);
  assert.equal(st.days['2026-03-10']?.export?.withinS, 1);
  assert.deepEqual(Object.keys(pruneDays(st, 1).days), ['2026-03-10']);
  const week = sumDays(Object.values(st.days).flatMap((d) => (d.export ? [d.export] : [])));
  assert.equal(week.withinS, 2);
});

test('the last event: from its start to the first sample within its limit; a late-seen event starts after the previous sample', () => {
  const ev = { mRID: 'E1', startMs: T0 + 2500 };
  // Before the event: default 5 kW. The event (1.5 kW) is first in force at the sample of 3 s; met at 6 s.
  let st = run([
    sample(0, 4000, 5000),
    sample(1, 4000, 5000),
    sample(2, 4000, 5000),
    sample(3, 4000, 1500, ev),
    sample(4, 3000, 1500, ev),
    sample(5, 1800, 1500, ev),
  ]);
  assert.deepEqual(st.lastEvent.export, { eventMRID: 'E1', programMRID: 'P1', limitW: 1500, startMs: T0 + 2500, metAt: null });
  st = observe(st, sample(6, 1520, 1500, ev), 5000);
  st = observe(st, sample(7, 1900, 1500, ev), 5000);
  assert.equal(st.lastEvent.export?.metAt, T0 + 6000, 'met at the first sample within, not undone by a later excursion');
  // An event whose nominal start is long past when first seen (read late): counted from the previous sample.
  const late = run([sample(0, 4000, 5000), sample(1, 1000, 1500, { mRID: 'E2', startMs: T0 - 600_000 })]);
  assert.deepEqual(late.lastEvent.export, { eventMRID: 'E2', programMRID: 'P1', limitW: 1500, startMs: T0, metAt: T0 + 1000 });
});

test('the store writes only the rows that changed; a day past the kept ones is deleted; it reads back the same', () => {
  const db = new Database(':memory:');
  const store = new ComplianceStore(db);
  const changes = (): number => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const fig = (withinS: number) => ({ ...ZERO_DAY, withinS });
  const week: ComplianceState = {
    days: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`2026-03-0${i + 1}`, { export: fig(100 + i), import: fig(200 + i) }])),
    lastEvent: { export: { eventMRID: 'E1', programMRID: 'P1', limitW: 1500, startMs: T0, metAt: T0 + 2000 } },
    previous: null,
  };
  store.save(week);
  const first = changes();
  assert.equal(first, 17);
  // Today's export counted on: one row written; the same state again: none.
  const today: ComplianceState = { ...week, days: { ...week.days, '2026-03-08': { ...week.days['2026-03-08'], export: fig(999) } } };
  store.save(today);
  assert.equal(changes() - first, 1);
  store.save(today);
  assert.equal(changes() - first, 1);
  // A new day, the oldest pruned: its two rows deleted, the new day's row written.
  const rest = Object.fromEntries(Object.entries(today.days).filter(([d]) => d !== '2026-03-01'));
  store.save({ ...today, days: { ...rest, '2026-03-09': { export: fig(1) } } });
  assert.equal(changes() - first, 4);
  const back = new ComplianceStore(db).load();
  assert.equal(Object.keys(back.days).length, 8);
  assert.equal(back.days['2026-03-08']?.export?.withinS, 999);
  assert.equal(back.lastEvent.export?.metAt, T0 + 2000);
});

test("the flows measured per limit: load is the site's consumption (grid + PV + battery discharge), as the controller bounds it", () => {
  const cases: Array<{ name: string; grid: number | null; pv: (number | null)[]; bat: (number | null)[]; want: ReturnType<typeof measureFlows> }> = [
    // 5 kW of PV, the battery charging 2 kW, 1 kW exported: the site consumes 2 kW of loads + 2 kW of charging.
    { name: 'exporting while charging', grid: -1000, pv: [5000], bat: [-2000], want: { export: 1000, import: 0, generation: 5000, load: 4000 } },
    // 3 kW imported, the battery discharging 1.5 kW, no PV: 4.5 kW of loads (discharge does not lower the load).
    { name: 'importing while discharging', grid: 3000, pv: [0], bat: [1500], want: { export: 0, import: 3000, generation: 1500, load: 4500 } },
    // Two PV inverters and two batteries, one charging, one discharging: 1 + 2 + 0.5 kW in, of which 1 kW charges.
    { name: 'several assets', grid: 1000, pv: [1500, 500], bat: [-1000, 500], want: { export: 0, import: 1000, generation: 2500, load: 3500 } },
    // PV a few watts negative at night (the inverter's own draw, inside the grid import): not production, in neither figure.
    { name: 'PV standby draw', grid: 800, pv: [-10], bat: [0], want: { export: 0, import: 800, generation: 0, load: 800 } },
    {
      name: 'a stale PV reading: load and generation unknown',
      grid: 800,
      pv: [null],
      bat: [0],
      want: { export: 0, import: 800, generation: null, load: null },
    },
    { name: 'no grid reading: load unknown', grid: null, pv: [1000], bat: [0], want: { export: null, import: null, generation: 1000, load: null } },
    { name: 'a site with a grid meter only: load is the import', grid: 1200, pv: [], bat: [], want: { export: 0, import: 1200, generation: null, load: 1200 } },
  ];
  for (const c of cases) assert.deepEqual(measureFlows(c.grid, c.pv, c.bat), c.want, c.name);
});
