import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDb } from './helpers/temp-db.js';
import { Ledger } from '../src/billing/ledger.js';
import { minor } from '../src/billing/money.js';
import { loadTariff, saveTariff } from '../src/billing/tariff-store.js';
import { parseTariff, type Tariff } from '../src/billing/tariff.js';
import { rate, rateFixedDay, type BillLine } from '../src/billing/rating.js';
import { daysInMonth, LocalCalendar, nextDay } from '../src/billing/calendar.js';
import { createCustomer } from '../src/billing/customers.js';
import { invoiceMonth } from '../src/billing/postpaid.js';
import { invoiceCsv } from '../src/billing/invoice-csv.js';
import { invoicePdfBuffer } from '../src/billing/invoice-pdf.js';
import { chargeNewIntervals, prepaidCredit } from '../src/billing/prepaid-charging.js';
import { assignMeter } from '../src/billing/customers.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { mulberry32 } from '../src/sim/prng.js';

const TZ = 'Africa/Kampala';
const local = (s: string): number => Date.parse(`${s}+03:00`);
const period = (from: string, to: string) => ({ fromMs: local(`${from}T00:00:00`), toMs: local(`${to}T00:00:00`) });
const FEES = [
  { name: 'Meter rental', amountMinor: 2000 },
  { name: 'Service fee', amountMinor: 1000 },
];
const withFees = (base: Array<'energy' | 'fixed' | 'fees'>): Tariff =>
  parseTariff({
    id: 'f',
    name: 'Fees',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'flat', priceE4: 2_500_000 },
        fixedMonthlyMinor: 3000,
        fees: FEES,
        taxes: [{ name: 'VAT', rateBp: 1800, base }],
      },
    ],
  });

test('fees: prorated like the fixed charge, their own lines, taxed when the base includes fees', () => {
  // 16-30 April = 15/30 days: energy 10 kWh x 250 = 2,500; fixed 1,500; meter rental 1,000; service fee 500.
  // VAT 18 % of 2,500 + 1,500 + 1,000 + 500 = 5,500 -> 990. Total 6,490.
  const bill = rate([{ startMs: local('2026-04-20T10:00:00'), kWh: 10 }], withFees(['energy', 'fixed', 'fees']), period('2026-04-16', '2026-05-01'), TZ);
  assert.deepEqual(
    bill.lines.map((l) => [l.kind, l.amountMinor]),
    [
      ['energy', 2500],
      ['fixed', 1500],
      ['fee', 1000],
      ['fee', 500],
      ['tax', 990],
    ],
  );
  assert.equal(bill.totalMinor, 6490);
  assert.equal(bill.lines[2]?.description, 'Meter rental 2026-04: 15/30 days of UGX 2,000');
  assert.equal(bill.lines[2].feeName, 'Meter rental');
  assert.equal(bill.lines[3]?.description, 'Service fee 2026-04: 15/30 days of UGX 1,000');
  assert.match(bill.lines[4]?.description ?? '', /VAT 18% of UGX 5,500 \(energy \+ fixed \+ fees/);
  // Fees outside the base are not taxed: 18 % of 4,000 = 720.
  const untaxed = rate([{ startMs: local('2026-04-20T10:00:00'), kWh: 10 }], withFees(['energy', 'fixed']), period('2026-04-16', '2026-05-01'), TZ);
  assert.deepEqual(
    untaxed.lines.map((l) => l.amountMinor),
    [2500, 1500, 1000, 500, 720],
  );
  // A whole month: exactly each fee. 10 of 31 March days: 2,000 x 10/31 = 645.16 -> 645; 1,000 x 10/31 = 322.58 -> 323.
  assert.deepEqual(
    rate([], withFees(['energy']), period('2026-03-01', '2026-04-01'), TZ).lines.map((l) => [l.kind, l.amountMinor]),
    [
      ['fixed', 3000],
      ['fee', 2000],
      ['fee', 1000],
    ],
  );
  assert.deepEqual(
    rate([], withFees(['energy']), period('2026-03-01', '2026-03-11'), TZ).lines.map((l) => l.amountMinor),
    [968, 645, 323],
  );
  // A tax on fees only.
  const excise = parseTariff({
    id: 'e',
    name: 'E',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'flat', priceE4: 0 },
        fees: FEES,
        taxes: [{ name: 'Excise duty', rateBp: 1000, base: ['fees'] }],
      },
    ],
  });
  assert.deepEqual(
    rate([], excise, period('2026-03-01', '2026-04-01'), TZ).lines.map((l) => [l.kind, l.amountMinor]),
    [
      ['fee', 2000],
      ['fee', 1000],
      ['tax', 300],
    ],
  );
});

test('fees: stored tariffs without fees still load; saved versions stay immutable', (t) => {
  const db = tempDb(t);
  assert.equal(loadTariff(db, 'old'), undefined); // creates the tables
  const old = {
    id: 'old',
    name: 'Old',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'flat', priceE4: 2_500_000 },
        fixedMonthlyMinor: 3000,
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed'] }],
      },
    ],
  };
  db.prepare('INSERT INTO billing_tariffs (id, json) VALUES (?, ?)').run('old', JSON.stringify(old));
  const loaded = loadTariff(db, 'old');
  assert.ok(loaded);
  assert.equal(loaded.versions[0]?.fees, undefined);
  assert.deepEqual(
    rate([], loaded, period('2026-03-01', '2026-04-01'), TZ).lines.map((l) => l.amountMinor),
    [3000, 540],
  );
  // Saving it again, with or without an empty fee list, is no change.
  saveTariff(db, old);
  saveTariff(db, { ...old, versions: [{ ...old.versions[0], fees: [] }] });
  // Adding fees to a saved version is refused; a new version may have them.
  assert.throws(() => saveTariff(db, { ...old, versions: [{ ...old.versions[0], fees: FEES }] }), /cannot change/);
  saveTariff(db, {
    ...old,
    versions: [
      ...old.versions,
      {
        version: 2,
        effectiveFrom: '2026-04-01',
        energy: { kind: 'flat', priceE4: 2_500_000 },
        fixedMonthlyMinor: 3000,
        fees: FEES,
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed', 'fees'] }],
      },
    ],
  });
  assert.deepEqual(loadTariff(db, 'old')?.versions[1]?.fees, FEES);
  assert.throws(() => parseTariff({ ...old, versions: [{ ...old.versions[0], fees: [{ name: '', amountMinor: 1 }] }] }));
  assert.throws(() => parseTariff({ ...old, versions: [{ ...old.versions[0], fees: [{ name: 'x', amountMinor: 1.5 }] }] }));
});

test('fees: a postpaid invoice posts fees to revenue:fees and shows them in CSV and PDF', async (t) => {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  saveTariff(db, { ...withFees(['energy', 'fixed', 'fees']), id: 'fees' });
  createCustomer(db, ledger, { id: 'bosco', name: 'Bosco', phone: '+256701000000', site: 'kasese', tariffId: 'fees', mode: 'postpaid' });
  // A meter all month and no energy: March is fixed 3,000 + rental 2,000 + service 1,000 + VAT 18 % of 6,000 = 1,080 -> 7,080.
  assignMeter(db, 'bosco', 'meter9', local('2026-02-20T00:00:00'));
  const inv = invoiceMonth(db, ledger, 'bosco', '2026-03', TZ, local('2026-04-01T06:00:00'));
  assert.equal(inv.totalMinor, 7080);
  assert.equal(ledger.balance('customer:bosco'), 7080);
  assert.equal(ledger.balance('revenue:fixed'), -3000);
  assert.equal(ledger.balance('revenue:fees'), -3000);
  assert.equal(ledger.balance('tax:vat-payable'), -1080);
  const csv = invoiceCsv(inv).trim().split('\n');
  assert.deepEqual(
    csv.filter((r) => r.includes(',fee,')),
    [
      `${inv.id},bosco,2026-03,fee,"Meter rental 2026-03: 31/31 days of UGX 2,000",,,1,2000,UGX`,
      `${inv.id},bosco,2026-03,fee,"Service fee 2026-03: 31/31 days of UGX 1,000",,,1,1000,UGX`,
    ],
  );
  // The PDF shows every line the rating gives.
  const pdf = await invoicePdfBuffer(
    {
      invoice: inv,
      siteName: 'Kasese',
      timeZone: TZ,
      customer: { id: 'bosco', name: 'Bosco', phone: '+256701000000' },
      account: 'customer:bosco',
      meters: [],
      payments: [],
      accountBalanceMinor: minor(7080),
      printedMs: local('2026-04-02T00:00:00'),
    },
    { compress: false },
  );
  const s = pdf.toString('latin1');
  const text = [...s.matchAll(/\[([^\]]*)\]\s*TJ/g)]
    .map((m) => [...(m[1] ?? '').matchAll(/<([0-9a-f]+)>/gi)].map((h) => Buffer.from(h[1] ?? '', 'hex').toString('latin1')).join(''))
    .join(' ')
    .replace(/\s+/g, ' ');
  for (const l of inv.bill.lines) assert.ok(text.includes(l.description), `"${l.description}" is on the page`);
  assert.ok(text.includes('UGX 7,080'));
});

/** Sums day lines per line identity (kind, version, fee or tax name). */
function perLine(lines: readonly BillLine[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const k = `${l.tariffVersion}|${l.kind}|${l.feeName ?? l.taxName ?? ''}`;
    m.set(k, (m.get(k) ?? 0) + l.amountMinor);
  }
  for (const [k, v] of m) if (v === 0) m.delete(k); // a 0 % tax gives a 0 line when rated at once, none per day
  return m;
}

test('prepaid fixed days: cumulative rounding, hand-computed', () => {
  // February 2026 (28 days), fixed 1,000: day k gets round(1000k/28) - round(1000(k-1)/28): 35.71 -> 36,
  // 71.43 -> 71 (35), 107.14 -> 107 (36).
  const t = parseTariff({
    id: 'x',
    name: 'X',
    currency: 'UGX',
    versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 0 }, fixedMonthlyMinor: 1000 }],
  });
  assert.deepEqual(
    ['2026-02-01', '2026-02-02', '2026-02-03'].map((d) => rateFixedDay(t, d, TZ).map((l) => l.amountMinor)),
    [[36], [35], [36]],
  );
  let sum = 0;
  for (let d = '2026-02-01'; d < '2026-03-01'; d = nextDay(d)) sum += rateFixedDay(t, d, TZ).reduce((s, l) => s + l.amountMinor, 0);
  assert.equal(sum, 1000);
  // March, fixed 3,100 (100 a day), rental 620 (20 a day), VAT 18 % on fixed + fees: month to date 120k,
  // tax round(21.6k): 22, 43, 65 -> days 22, 21, 22.
  const v = parseTariff({
    id: 'y',
    name: 'Y',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'flat', priceE4: 0 },
        fixedMonthlyMinor: 3100,
        fees: [{ name: 'Meter rental', amountMinor: 620 }],
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['fixed', 'fees'] }],
      },
    ],
  });
  assert.deepEqual(
    ['2026-03-01', '2026-03-02', '2026-03-03'].map((d) => rateFixedDay(v, d, TZ).map((l) => [l.kind, l.amountMinor])),
    [
      [
        ['fixed', 100],
        ['fee', 20],
        ['tax', 22],
      ],
      [
        ['fixed', 100],
        ['fee', 20],
        ['tax', 21],
      ],
      [
        ['fixed', 100],
        ['fee', 20],
        ['tax', 22],
      ],
    ],
  );
  assert.equal(rateFixedDay(v, '2026-03-02', TZ)[1]?.description, 'Meter rental 2026-03-02 (day 2 of 31, tariff v1)');
});

test('property: prepaid daily fixed charge, fees and taxes sum to the month rated at once (months of 28-31 days, 300 seeds)', () => {
  const months = ['2024-02', '2026-02', '2026-04', '2026-03', '2026-06', '2026-12'];
  for (let seed = 1; seed <= 300; seed++) {
    const r = mulberry32(seed);
    const month = months[seed % months.length] as string;
    const dim = daysInMonth(month);
    const amount = (): number => Math.floor(r() * 1_000_000);
    const fees = Array.from({ length: Math.floor(r() * 4) }, (_, j) => ({ name: `Fee ${j}`, amountMinor: amount() }));
    const bases = [['fixed'], ['fees'], ['fixed', 'fees'], ['energy', 'fixed', 'fees'], ['energy']][Math.floor(r() * 5)] as Array<'energy' | 'fixed' | 'fees'>;
    const v1 = {
      version: 1,
      effectiveFrom: '2024-01-01',
      energy: { kind: 'flat' as const, priceE4: 1 },
      fixedMonthlyMinor: amount(),
      fees,
      taxes: [{ name: 'VAT', rateBp: Math.floor(r() * 3000), base: bases }],
    };
    const split = r() < 0.3;
    const tariff = parseTariff({
      id: 'p',
      name: 'P',
      currency: r() < 0.5 ? 'UGX' : 'KES',
      versions: split
        ? [
            v1,
            {
              ...v1,
              version: 2,
              effectiveFrom: `${month}-${String(2 + Math.floor(r() * (dim - 2))).padStart(2, '0')}`,
              fixedMonthlyMinor: amount(),
              fees: fees.slice(1),
            },
          ]
        : [v1],
    });
    const days: BillLine[] = [];
    for (let d = `${month}-01`; d.startsWith(month); d = nextDay(d)) {
      const lines = rateFixedDay(tariff, d, TZ);
      if (!split) {
        // Each day's fixed charge is the monthly amount / days, rounded down or up.
        const f = lines.find((l) => l.kind === 'fixed')?.amountMinor ?? 0;
        assert.ok(f === Math.floor(v1.fixedMonthlyMinor / dim) || f === Math.ceil(v1.fixedMonthlyMinor / dim), `seed ${seed} ${d}: ${f}`);
      }
      days.push(...lines);
    }
    const [fromMs, toMs] = LocalCalendar.for(TZ).monthRange(month);
    const whole = rate([], tariff, { fromMs, toMs }, TZ);
    assert.deepEqual(perLine(days), perLine(whole.lines), `seed ${seed} ${month}`);
    if (!split) {
      assert.equal(
        days.filter((l) => l.kind === 'fixed').reduce((s, l) => s + l.amountMinor, 0),
        v1.fixedMonthlyMinor,
        `seed ${seed}`,
      );
      for (const f of fees)
        assert.equal(
          days.filter((l) => l.feeName === f.name).reduce((s, l) => s + l.amountMinor, 0),
          f.amountMinor,
          `seed ${seed} ${f.name}`,
        );
    }
  }
});

test('prepaid: chargeFixed charges each started local day once, idempotently, and a month sums exactly', (t) => {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  saveTariff(db, {
    id: 'y',
    name: 'Y',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2026-01-01',
        energy: { kind: 'flat', priceE4: 2_500_000 },
        fixedMonthlyMinor: 3100,
        fees: [{ name: 'Meter rental', amountMinor: 620 }],
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed', 'fees'] }],
      },
    ],
  });
  ledger.openAccount('cash:mtn', 'asset');
  createCustomer(db, ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'kasese', tariffId: 'y', mode: 'prepaid' });
  const w = new ReadingWriter(db);
  w.add({ meter: 'm1', ts: 0, values: { ActivePower: 0 } });
  w.flush();
  const t0 = local('2026-03-01T00:00:00');
  assignMeter(db, 'amina', 'm1', t0);
  ledger.post({
    key: 'pay1',
    kind: 'payment',
    reference: 'MTN 1',
    atMs: t0,
    lines: [
      { account: 'cash:mtn', amountMinor: minor(5000) },
      { account: 'customer:amina', amountMinor: minor(-5000) },
    ],
  });
  const opts = { ledger, timeZone: TZ, chargeFixed: true, lowBalanceThresholdsMinor: [1000] };
  // Without chargeFixed nothing is charged (no intervals).
  assert.equal(chargeNewIntervals(db, t0 + 3_600_000, { ledger, timeZone: TZ }).charges.length, 0);
  // 1 March has started: 100 + 20 + VAT 22 = 142.
  let r = chargeNewIntervals(db, t0 + 3_600_000, opts);
  assert.deepEqual(
    r.charges.map((c) => c.amountMinor),
    [142],
  );
  assert.equal(prepaidCredit(ledger, 'amina'), 5000 - 142);
  assert.equal(chargeNewIntervals(db, t0 + 7_200_000, opts).charges.length, 0);
  // Local midnight of 3 March: days 2 and 3 (141, 142).
  r = chargeNewIntervals(db, local('2026-03-03T00:00:00'), opts);
  assert.deepEqual(
    r.charges.map((c) => c.amountMinor),
    [141, 142],
  );
  assert.ok(ledger.byKey('prepaid-fixed:amina:2026-03-03'));
  // Losing the watermark charges nothing twice: the ledger keys are per customer and day.
  db.prepare('DELETE FROM billing_prepaid_fixed_days').run();
  assert.equal(chargeNewIntervals(db, local('2026-03-03T12:00:00'), opts).charges.length, 0);
  assert.equal(prepaidCredit(ledger, 'amina'), 5000 - 425);
  // The rest of March: exactly 3,100 + 620 + VAT 18 % of 3,720 (669.6 -> 670) = 4,390; credit crosses 1,000 and zero.
  r = chargeNewIntervals(db, local('2026-03-31T12:00:00'), opts);
  assert.equal(ledger.balance('revenue:fixed'), -3100);
  assert.equal(ledger.balance('revenue:fees'), -620);
  assert.equal(ledger.balance('tax:vat-payable'), -670);
  assert.equal(prepaidCredit(ledger, 'amina'), 5000 - 4390);
  assert.deepEqual(
    r.events.map((e) => e.kind),
    ['low-balance'],
  );
  assert.equal(ledger.trialBalance().totalMinor, 0);
});
