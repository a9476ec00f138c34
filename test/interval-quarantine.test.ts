import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreDb } from '../src/store/database.js';
import { tempDb } from './helpers/temp-db.js';
import { ReadingWriter, type Reading } from '../src/store/reading-writer.js';
import { buildIntervals } from '../src/store/intervals.js';
import { intervals } from '../src/store/history.js';
import { listQuarantined, QuarantineError, resolutionOf, resolveInterval } from '../src/store/quarantine.js';
import { Ledger } from '../src/billing/ledger.js';
import { minor } from '../src/billing/money.js';
import { saveTariff } from '../src/billing/tariff-store.js';
import { assignMeter, createCustomer } from '../src/billing/customers.js';
import { chargeNewIntervals, prepaidCredit } from '../src/billing/prepaid-charging.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { maxPowerW } from '../src/drivers/meter-rating.js';
import { quarantineFinding } from '../src/alarms/rules/interval-quarantine.js';

const TZ = 'Africa/Kampala';
const MIN = 60_000;
/** A fixed Monday in the site's zone: nothing depends on today's date. */
const T0 = Date.parse('2026-03-02T00:00:00+03:00');
const DDSU666_W = maxPowerW(loadProfiles().get('DDSU666') as NonNullable<ReturnType<ReturnType<typeof loadProfiles>['get']>>, { ctRatio: 1 }) as number;
const build = (db: StoreDb, untilMs: number): number => buildIntervals(db, untilMs, { maxPowerWFor: () => DDSU666_W });

/** 600 W (0.01 kWh a minute) for two hours; the counter steps back at minute 40 (a restarted simulator) and jumps 50 kWh at minute 80. */
function counterAt(k: number): number {
  if (k < 40) return 3000 + 0.01 * k;
  if (k < 80) return 212 + 0.01 * (k - 40);
  return 212 + 50 + 0.01 * (k - 40);
}

function store(db: StoreDb, readings: readonly Reading[]): void {
  const w = new ReadingWriter(db);
  readings.forEach((r) => w.add(r));
  w.flush();
}

function prepaidSite(t: { after: (fn: () => void) => void }) {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  saveTariff(db, {
    id: 'flat',
    name: 'Flat',
    currency: 'UGX',
    versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 2_500_000 }, fixedMonthlyMinor: 0, taxes: [] }],
  });
  ledger.openAccount('cash:mtn', 'asset');
  createCustomer(db, ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'kasese', tariffId: 'flat', mode: 'prepaid' });
  assignMeter(db, 'amina', 'meter7', T0);
  ledger.post({
    key: 'pay1',
    kind: 'payment',
    reference: 'MTN 1',
    atMs: T0,
    lines: [
      { account: 'cash:mtn', amountMinor: minor(100_000) },
      { account: 'customer:amina', amountMinor: minor(-100_000) },
    ],
  });
  return { db, ledger, opts: { ledger, timeZone: TZ } };
}

test('the DDSU666 profile rates it at 80 A x 230 V x 1.15; a DTSU666 behind CTs scales with the ratio', () => {
  assert.equal(Math.round(DDSU666_W), 21_160);
  const dtsu = loadProfiles().get('DTSU666');
  assert.ok(dtsu);
  assert.equal(Math.round(maxPowerW(dtsu, { ctRatio: 40 }) as number), Math.round(6 * 40 * 230 * 1.2 * 3));
  assert.equal(Math.round(maxPowerW(dtsu, { ctRatio: 1 }) as number), Math.round(80 * 230 * 1.2 * 3));
  assert.equal(maxPowerW(dtsu, { ctRatio: 40, maxPowerW: 5000 }), 5000, 'a configured maxPowerW wins');
});

test('a backwards counter step and an impossible interval are quarantined, alarmed and never billed; a resolution bills once', (t) => {
  const { db, ledger, opts } = prepaidSite(t);
  store(
    db,
    Array.from({ length: 121 }, (_, k) => ({ meter: 'meter7', ts: T0 + k * MIN, values: { ActivePower: 600, EnergyImport: counterAt(k) } })),
  );
  assert.equal(build(db, T0 + 130 * MIN), 8);

  const q = listQuarantined(db, 'meter7');
  assert.deepEqual(
    q.map((x) => (x.startMs - T0) / MIN),
    [30, 75],
  );
  assert.match(q[0]?.reason ?? '', /import counter stepped back from 3000\.39 to 212\.00 kWh/);
  assert.match(q[1]?.reason ?? '', /more than the meter can measure/);
  assert.ok(Math.abs((q[1]?.suspectImportKWh ?? 0) - 50.15) < 1e-6, 'what the counters said is kept aside');
  const rows = intervals(db, 'meter7', T0, T0 + 120 * MIN);
  assert.deepEqual(
    rows.map((r) => r.energyImportKWh),
    [0.15, 0.15, null, 0.15, 0.15, null, 0.15, 0.15],
  );

  // The alarm names the meter and tells the operator what to do.
  const alarm = quarantineFinding('meter7', 'floor1', q);
  assert.equal(alarm.active, true);
  assert.equal(alarm.subject, 'meter7');
  assert.match(alarm.message, /2 intervals are quarantined and not billed/);
  assert.match(alarm.message, /record the replacement/);
  assert.match(alarm.message, /resolve each interval/);

  // The real charge path: 6 good intervals x 0.15 kWh x UGX 250 = UGX 225, nothing for the two in quarantine.
  chargeNewIntervals(db, T0 + 130 * MIN, opts);
  assert.equal(prepaidCredit(ledger, 'amina'), 100_000 - 225);

  // A person resolves them: one corrected to 0.15 kWh, one set to zero. Billed once, at the next run.
  const by = { by: 'olivia', why: 'demo restart; the customer drew 600 W throughout', atMs: T0 + 3 * 3600_000 };
  resolveInterval(db, 'meter7', T0 + 30 * MIN, { ...by, action: 'set', importKWh: 0.15 });
  resolveInterval(db, 'meter7', T0 + 75 * MIN, { ...by, action: 'zero' });
  assert.throws(
    () => resolveInterval(db, 'meter7', T0 + 75 * MIN, { ...by, action: 'accept' }),
    (e: unknown) => e instanceof QuarantineError && e.kind === 'conflict' && /already resolved/.test(e.message),
  );
  assert.throws(() => resolveInterval(db, 'meter7', T0, { ...by, action: 'accept' }), /not quarantined/);
  assert.deepEqual(resolutionOf(db, 'meter7', T0 + 30 * MIN), {
    id: 1,
    meter: 'meter7',
    startMs: T0 + 30 * MIN,
    action: 'set',
    importKWh: 0.15,
    exportKWh: 0,
    by: 'olivia',
    atMs: by.atMs,
    why: by.why,
  });
  assert.equal(listQuarantined(db).length, 0);
  assert.equal(quarantineFinding('meter7', 'floor1', []).active, false, 'the alarm clears when nothing is left');

  chargeNewIntervals(db, T0 + 131 * MIN, opts);
  assert.equal(prepaidCredit(ledger, 'amina'), 100_000 - 262, '1.05 kWh x 250 = 262.5, half-even 262');
  chargeNewIntervals(db, T0 + 132 * MIN, opts);
  chargeNewIntervals(db, T0 + 200 * MIN, opts);
  assert.equal(prepaidCredit(ledger, 'amina'), 100_000 - 262, 'once');
  assert.equal(ledger.trialBalance().totalMinor, 0);
});

test('an interval resolved before billing reaches it is billed once, the ordinary way', (t) => {
  const { db, ledger, opts } = prepaidSite(t);
  store(
    db,
    Array.from({ length: 61 }, (_, k) => ({ meter: 'meter7', ts: T0 + k * MIN, values: { EnergyImport: counterAt(k) } })),
  );
  build(db, T0 + 70 * MIN);
  resolveInterval(db, 'meter7', T0 + 30 * MIN, { action: 'accept', by: 'olivia', why: 'accepted as read', atMs: T0 + 70 * MIN });
  chargeNewIntervals(db, T0 + 70 * MIN, opts);
  chargeNewIntervals(db, T0 + 80 * MIN, opts);
  // Accepted as read: 0.09 + 0 + 0.05 = 0.14 kWh; with 3 x 0.15 kWh, 0.59 kWh = UGX 147.5 -> 148.
  assert.equal(prepaidCredit(ledger, 'amina'), 100_000 - 148);
});

test('quarantine survives a rebuild and is stored by a schema migration of an old file', (t) => {
  const db = tempDb(t);
  const cols = db.prepare("SELECT name FROM pragma_table_info('intervals')").pluck().all();
  assert.ok(['status', 'reason', 'suspect_imp_kwh', 'suspect_exp_kwh'].every((c) => cols.includes(c)));
  store(
    db,
    Array.from({ length: 61 }, (_, k) => ({ meter: 'meter7', ts: T0 + k * MIN, values: { EnergyImport: counterAt(k) } })),
  );
  build(db, T0 + 70 * MIN);
  assert.equal(intervals(db, 'meter7', T0, T0 + 60 * MIN)[2]?.status, 'quarantined');
});
