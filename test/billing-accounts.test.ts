import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDb } from './helpers/temp-db.js';
import { insertIntervals } from '../src/store/interval-table.js';
import type { IntervalRow } from '../src/store/interval-calc.js';
import { Ledger } from '../src/billing/ledger.js';
import { minor, negate } from '../src/billing/money.js';
import { saveTariff } from '../src/billing/tariff-store.js';
import { assignMeter, consumptionOf, createCustomer } from '../src/billing/customers.js';
import { chargeNewIntervals, prepaidCredit } from '../src/billing/prepaid-charging.js';
import { allocatePayment, invoiceMonth, openInvoices } from '../src/billing/postpaid.js';
import { invoiceCsv } from '../src/billing/invoice-csv.js';
import { rate } from '../src/billing/rating.js';
import type { Tariff } from '../src/billing/tariff.js';
import { TZ, local, Q, intervalRow as row, meterId as meter } from './helpers/billing-fixtures.js';

/** The block tariff every customer here is on. */
const DOMESTIC: Tariff = {
  id: 'domestic',
  name: 'Domestic',
  currency: 'UGX',
  versions: [
    {
      version: 1,
      effectiveFrom: '2026-01-01',
      energy: {
        kind: 'block',
        blocks: [
          { upToKWh: 15, priceE4: 2_500_000 },
          { upToKWh: null, priceE4: 7_500_000 },
        ],
      },
      fixedMonthlyMinor: 3000,
      taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed'] }],
    },
  ],
};

function site(t: { after: (fn: () => void) => void }) {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  saveTariff(db, DOMESTIC);
  ledger.openAccount('cash:mtn', 'asset');
  return { db, ledger };
}

test('customers: phone validated, one account each; a meter moved keeps each history', (t) => {
  const { db, ledger } = site(t);
  assert.throws(() => createCustomer(db, ledger, { id: 'x', name: 'X', phone: '0772123456', site: 'kasese', tariffId: 'domestic', mode: 'prepaid' }), /E\.164/);
  createCustomer(db, ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'kasese', tariffId: 'domestic', mode: 'prepaid' });
  createCustomer(db, ledger, { id: 'bosco', name: 'Bosco', phone: '+256701000000', site: 'kasese', tariffId: 'domestic', mode: 'postpaid' });
  assert.equal(ledger.accountType('customer:amina'), 'liability');
  assert.equal(ledger.accountType('customer:bosco'), 'asset');
  const id = meter(db, 'meter7');
  const t0 = local('2026-03-01T00:00:00');
  insertIntervals(
    db,
    id,
    Array.from({ length: 8 }, (_, i) => row(t0 + i * Q, 1)),
  );
  assignMeter(db, 'amina', 'meter7', t0);
  assignMeter(db, 'bosco', 'meter7', t0 + 5 * Q);
  assert.throws(() => assignMeter(db, 'amina', 'meter7', t0 + 2 * Q), /history/);
  assert.equal(consumptionOf(db, 'amina', t0, t0 + 8 * Q).length, 5);
  assert.deepEqual(
    consumptionOf(db, 'bosco', 0, t0 + 100 * Q).map((c) => c.startMs),
    [5, 6, 7].map((i) => t0 + i * Q),
  );
});

test('prepaid: charges arrive as intervals do, once; low-balance and zero events', (t) => {
  const { db, ledger } = site(t);
  createCustomer(db, ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'kasese', tariffId: 'domestic', mode: 'prepaid', protected: true });
  const id = meter(db, 'meter7');
  const t0 = local('2026-03-01T00:00:00');
  assignMeter(db, 'amina', 'meter7', t0);
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
  const opts = { ledger, timeZone: TZ, lowBalanceThresholdsMinor: [2000, 1000] };
  // 10 kWh x 250 = 2,500 + VAT 450 = 2,950 -> credit 2,050
  insertIntervals(
    db,
    id,
    Array.from({ length: 10 }, (_, i) => row(t0 + i * Q, 1)),
  );
  let r = chargeNewIntervals(db, t0 + 11 * Q, opts);
  assert.deepEqual(
    r.charges.map((c) => c.amountMinor),
    [2950],
  );
  assert.equal(r.events.length, 0);
  assert.equal(prepaidCredit(ledger, 'amina'), 2050);
  // Nothing new: nothing charged.
  assert.equal(chargeNewIntervals(db, t0 + 12 * Q, opts).charges.length, 0);
  // 5 kWh more: 5 at 250 = 1,250 + 225 VAT = 1,475 -> 575: crosses 2,000 and 1,000.
  insertIntervals(db, id, [row(t0 + 10 * Q, 5)]);
  r = chargeNewIntervals(db, t0 + 12 * Q, opts);
  assert.equal(prepaidCredit(ledger, 'amina'), 575);
  assert.deepEqual(
    r.events.map((e) => [e.kind, e.thresholdMinor, e.protected]),
    [
      ['low-balance', 2000, true],
      ['low-balance', 1000, true],
    ],
  );
  // 1 kWh in block 2: 750 + 135 VAT -> -310: zero crossed.
  insertIntervals(db, id, [row(t0 + 11 * Q, 1)]);
  r = chargeNewIntervals(db, t0 + 13 * Q, opts);
  assert.equal(prepaidCredit(ledger, 'amina'), -310);
  assert.deepEqual(
    r.events.map((e) => e.kind),
    ['zero'],
  );
  assert.equal(ledger.balance('revenue:energy'), -(2500 + 1250 + 750));
  assert.equal(ledger.balance('tax:vat-payable'), -(450 + 225 + 135));
  assert.equal(ledger.trialBalance().totalMinor, 0);
});

test('postpaid: a month of synthetic intervals gives an invoice equal to the ledger movement; payments go to the oldest invoice', (t) => {
  const { db, ledger } = site(t);
  createCustomer(db, ledger, { id: 'bosco', name: 'Bosco', phone: '+256701000000', site: 'kasese', tariffId: 'domestic', mode: 'postpaid' });
  const id = meter(db, 'meter9');
  const from = local('2026-03-01T00:00:00');
  const to = local('2026-05-01T00:00:00');
  const rows: IntervalRow[] = [];
  for (let s = from, i = 0; s < to; s += Q, i++) rows.push(row(s, Math.round((0.01 + 0.04 * Math.abs(Math.sin(i / 7))) * 1e6) / 1e6));
  insertIntervals(db, id, rows);
  assignMeter(db, 'bosco', 'meter9', from);
  assert.throws(() => invoiceMonth(db, ledger, 'bosco', '2026-03', TZ, local('2026-03-20T00:00:00')), /not over/);
  const march = invoiceMonth(db, ledger, 'bosco', '2026-03', TZ, local('2026-04-01T06:00:00'));
  const expected = rate(
    rows.map((r) => ({ startMs: r.startMs, kWh: r.energyImportKWh ?? 0 })),
    DOMESTIC,
    { fromMs: from, toMs: local('2026-04-01T00:00:00') },
    TZ,
  );
  assert.equal(march.totalMinor, expected.totalMinor);
  assert.equal(ledger.balance('customer:bosco'), march.totalMinor);
  assert.equal(negate(ledger.balance('revenue:energy')) - ledger.balance('revenue:fixed') - ledger.balance('tax:vat-payable'), march.totalMinor);
  assert.equal(invoiceMonth(db, ledger, 'bosco', '2026-03', TZ, local('2026-04-02T00:00:00')).id, march.id);
  const april = invoiceMonth(db, ledger, 'bosco', '2026-04', TZ, local('2026-05-01T06:00:00'));
  assert.equal(ledger.balance('customer:bosco'), march.totalMinor + april.totalMinor);

  // Payment: the payment side posts cash against the receivable; billing allocates it.
  const paid = march.totalMinor + 100;
  ledger.post({
    key: 'mtn:p1',
    kind: 'payment',
    reference: 'MTN p1',
    atMs: local('2026-05-02T00:00:00'),
    lines: [
      { account: 'cash:mtn', amountMinor: minor(paid) },
      { account: 'customer:bosco', amountMinor: minor(-paid) },
    ],
  });
  const a = allocatePayment(db, ledger, 'bosco', 'mtn:p1');
  assert.deepEqual(
    a.allocations.map((x) => [x.month, x.amountMinor]),
    [
      ['2026-03', march.totalMinor],
      ['2026-04', 100],
    ],
  );
  assert.equal(a.unallocatedMinor, 0);
  assert.deepEqual(allocatePayment(db, ledger, 'bosco', 'mtn:p1'), a);
  assert.deepEqual(
    openInvoices(db, 'bosco').map((o) => [o.invoice.month, o.openMinor]),
    [['2026-04', april.totalMinor - 100]],
  );
  assert.equal(ledger.balance('customer:bosco'), april.totalMinor - 100);
  assert.throws(() => allocatePayment(db, ledger, 'bosco', 'mtn:nope'), /no payment/);

  const csv = invoiceCsv(march).trim().split('\n');
  assert.equal(csv[0], 'invoice,customer,month,kind,description,quantity_kwh,unit_price,tariff_version,amount,currency');
  assert.match(csv[csv.length - 1] ?? '', new RegExp(`,total,Total,,,,${march.totalMinor},UGX$`));
  assert.equal(csv.length, 1 + march.bill.lines.length + 1);
});

test('prepaid: a meter that catches up after the month turned is charged in its own month', (t) => {
  const { db, ledger } = site(t);
  createCustomer(db, ledger, { id: 'amina', name: 'Amina', phone: '+256772123456', site: 'kasese', tariffId: 'domestic', mode: 'prepaid' });
  const a = meter(db, 'mA');
  const b = meter(db, 'mB');
  const t0 = local('2026-03-31T20:00:00');
  assignMeter(db, 'amina', 'mA', t0);
  assignMeter(db, 'amina', 'mB', t0);
  const opts = { ledger, timeZone: TZ };
  insertIntervals(
    db,
    a,
    Array.from({ length: 24 }, (_, i) => row(t0 + i * Q, 1)),
  ); // to 02:00 on 1 April
  insertIntervals(
    db,
    b,
    Array.from({ length: 4 }, (_, i) => row(t0 + i * Q, 1)),
  );
  chargeNewIntervals(db, t0 + 24 * Q, opts);
  insertIntervals(
    db,
    b,
    Array.from({ length: 20 }, (_, i) => row(t0 + (i + 4) * Q, 1)),
  ); // B catches up across midnight
  chargeNewIntervals(db, t0 + 25 * Q, opts);
  const tariff = DOMESTIC;
  const all = consumptionOf(db, 'amina', t0, t0 + 24 * Q);
  const expected =
    rate(all, tariff, { fromMs: local('2026-03-01T00:00:00'), toMs: local('2026-04-01T00:00:00') }, TZ, { includeFixed: false }).totalMinor +
    rate(all, tariff, { fromMs: local('2026-04-01T00:00:00'), toMs: local('2026-05-01T00:00:00') }, TZ, { includeFixed: false }).totalMinor;
  // March: 32 kWh = 15 x 250 + 17 x 750 = 16,500 (+18 % = 19,470); April: 16 kWh = 15 x 250 + 750 = 4,500 (+810)
  assert.equal(expected, 19_470 + 5_310);
  assert.equal(ledger.balance('customer:amina'), expected);
});
