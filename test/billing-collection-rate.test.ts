import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectedOf, collectionRate, monthFigures } from '../src/billing-runtime/billing-figures.js';
import { createCustomer } from '../src/billing/customers.js';
import { Ledger } from '../src/billing/ledger.js';
import { minor } from '../src/billing/money.js';
import { saveTariff } from '../src/billing/tariff-store.js';
import { tempDb } from './helpers/temp-db.js';

const TZ = 'Africa/Kampala';
const local = (s: string): number => Date.parse(`${s}+03:00`);

test('collection rate: edge cases of collected / due', () => {
  // Nothing due: no rate (not 0 %, not a division by zero).
  assert.equal(collectionRate([]).rate, null);
  assert.equal(collectionRate([{ openingMinor: 0, billedMinor: 0, paidMinor: 5000 }]).rate, null, 'a top-up with nothing billed is an advance');
  // The case: a prepaid top-up of 50,000 against 1,520 used was shown as 3289 %; all of it was collected.
  assert.equal(collectionRate([{ openingMinor: 0, billedMinor: 1520, paidMinor: 50_000 }]).rate, 1);
  // Payments <= billed: the rate is payments / billed.
  assert.equal(collectionRate([{ openingMinor: 0, billedMinor: 10_000, paidMinor: 4_000 }]).rate, 0.4);
  assert.equal(collectionRate([{ openingMinor: 0, billedMinor: 10_000, paidMinor: 0 }]).rate, 0);
  // Credit brought into the month pays this month's charges; an overdraft is not collected.
  assert.deepEqual(collectedOf({ openingMinor: -1000, billedMinor: 3000, paidMinor: 0 }), { dueMinor: 3000, collectedMinor: 1000 });
  // Debt brought into the month is due too: paying last month's invoice counts, paying half of it is half.
  assert.equal(collectionRate([{ openingMinor: 10_000, billedMinor: 0, paidMinor: 10_000 }]).rate, 1);
  assert.equal(collectionRate([{ openingMinor: 10_000, billedMinor: 0, paidMinor: 5_000 }]).rate, 0.5);
  // A net credit note (charges reversed) is money towards what is due, never a negative due.
  assert.deepEqual(collectedOf({ openingMinor: 2000, billedMinor: -500, paidMinor: 0 }), { dueMinor: 2000, collectedMinor: 500 });
  // Several customers: one's advance does not pay another's debt.
  assert.equal(
    collectionRate([
      { openingMinor: 0, billedMinor: 1000, paidMinor: 100_000 },
      { openingMinor: 0, billedMinor: 1000, paidMinor: 0 },
    ]).rate,
    0.5,
  );
  // Whatever the figures, 0 <= rate <= 1, and with no credit brought in and payments <= billed, it is at most payments / billed.
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  for (let i = 0; i < 2000; i++) {
    const months = Array.from({ length: 1 + rnd(5) }, () => ({ openingMinor: rnd(20_000) - 10_000, billedMinor: rnd(20_000) - 2_000, paidMinor: rnd(30_000) }));
    const r = collectionRate(months);
    if (r.rate !== null) assert.ok(r.rate >= 0 && r.rate <= 1, JSON.stringify(months));
    const plain = months.map((m) => ({
      ...m,
      openingMinor: 0,
      billedMinor: Math.abs(m.billedMinor),
      paidMinor: Math.min(m.paidMinor, Math.abs(m.billedMinor)),
    }));
    const billed = plain.reduce((s, m) => s + m.billedMinor, 0);
    const paid = plain.reduce((s, m) => s + m.paidMinor, 0);
    const p = collectionRate(plain);
    if (billed > 0) assert.ok(p.rate !== null && Math.abs(p.rate - paid / billed) < 1e-12 && p.rate <= 1);
  }
});

test('month figures from the ledger: fees and every tax are billed, top-ups are advances, reversed payments do not count', (t) => {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  saveTariff(db, {
    id: 'flat',
    name: 'Flat',
    currency: 'UGX',
    versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 2_500_000 } }],
  });
  createCustomer(db, ledger, { id: 'pre', name: 'Prepaid', phone: '+256772123456', site: 'kasese', tariffId: 'flat', mode: 'prepaid' });
  createCustomer(db, ledger, { id: 'post', name: 'Postpaid', phone: '+256772123457', site: 'kasese', tariffId: 'flat', mode: 'postpaid' });
  for (const [a, type] of [
    ['revenue:energy', 'revenue'],
    ['revenue:fees', 'revenue'],
    ['revenue:fixed', 'revenue'],
    ['tax:vat-payable', 'liability'],
    ['tax:excise-duty-payable', 'liability'],
    ['cash:cash', 'asset'],
  ] as const)
    ledger.openAccount(a, type);
  const post = (key: string, kind: string, atMs: number, lines: Array<[string, number]>) =>
    ledger.post({ key, kind, reference: key, atMs, lines: lines.map(([account, amount]) => ({ account, amountMinor: minor(amount) })) });
  // Last month: the postpaid customer was invoiced 10,000 and has not paid.
  post('inv-may', 'invoice', local('2026-05-31T12:00:00'), [
    ['customer:post', 10_000],
    ['revenue:energy', -10_000],
  ]);
  // This month: a top-up of 50,000, 1,520 of energy with VAT, a fee and an excise tax; half of last month's invoice paid.
  const june = (d: string) => local(`2026-06-${d}T10:00:00`);
  post('pay-pre', 'payment', june('02'), [
    ['cash:cash', 50_000],
    ['customer:pre', -50_000],
  ]);
  post('use-pre', 'consumption', june('03'), [
    ['customer:pre', 1520 + 200 + 100 + 50],
    ['revenue:energy', -1520],
    ['revenue:fees', -200],
    ['tax:vat-payable', -100],
    ['tax:excise-duty-payable', -50],
  ]);
  post('pay-post', 'payment', june('04'), [
    ['cash:cash', 5_000],
    ['customer:post', -5_000],
  ]);
  // A payment recorded by mistake and reversed: neither counts.
  const wrong = post('pay-wrong', 'payment', june('05'), [
    ['cash:cash', 7_000],
    ['customer:post', -7_000],
  ]);
  ledger.reverse(wrong.tx.id, { key: 'rev-wrong', reference: 'entered twice', atMs: june('05') + 1 });

  const f = monthFigures(db, ledger, TZ, june('10'));
  assert.equal(f.month, '2026-06');
  assert.equal(f.revenueMinor, 1520 + 200, 'energy and fees, taxes excluded');
  assert.equal(f.revenueFeesMinor, 200);
  assert.equal(f.billedMinor, 1870, 'billed holds the fee and both taxes');
  assert.equal(f.paymentsMinor, 55_000, 'the reversed payment is out');
  assert.equal(f.dueMinor, 1870 + 10_000);
  assert.equal(f.collectedMinor, 1870 + 5_000);
  assert.ok(f.collectionRate !== null && Math.abs(f.collectionRate - 6870 / 11_870) < 1e-12);
  assert.ok(f.collectionRate <= 1, `payments exceed billed, yet the rate is ${f.collectionRate}`);
  assert.equal(f.arrearsMinor, 5_000);
  assert.equal(f.customersInArrears, 1);
  // Entries after the clock are not counted yet; the month before has its own figures.
  assert.equal(monthFigures(db, ledger, TZ, june('03') - 1).billedMinor, 0);
  assert.equal(monthFigures(db, ledger, TZ, local('2026-05-31T23:00:00')).collectionRate, 0);
});
