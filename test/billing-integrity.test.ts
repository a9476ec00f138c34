import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertIntervals } from '../src/store/interval-table.js';
import { Ledger } from '../src/billing/ledger.js';
import { minor } from '../src/billing/money.js';
import { loadTariff, saveTariff } from '../src/billing/tariff-store.js';
import { assignMeter, createCustomer } from '../src/billing/customers.js';
import { chargeNewIntervals, prepaidCredit, takeBalanceEvents } from '../src/billing/prepaid-charging.js';
import { invoiceMonth } from '../src/billing/postpaid.js';
import { LocalCalendar } from '../src/billing/calendar.js';
import { CreditEventHub } from '../src/billing-runtime/credit-events.js';
import { PrepaidRuntime } from '../src/billing-runtime/prepaid-runtime.js';
import { AuditLog } from '../src/governance/audit-log.js';
import { GovernanceGate } from '../src/governance/gate.js';
import { GovernanceSettings } from '../src/governance/governance-settings.js';
import { PrepaidLoop } from '../src/governance/prepaid-loop.js';
import { ProposalStore } from '../src/governance/proposal-store.js';
import { disconnectPolicySchema } from '../src/governance/types.js';
import { manualClock } from '../src/util/clock.js';
import { tempDb } from './helpers/temp-db.js';
import { TZ, local, Q, intervalRow as row, meterId as meter } from './helpers/billing-fixtures.js';

/** These cases start supervised (L2), as a site seeded with governance.disconnectAutonomy: supervised; the seed's own default is L3. */
function supervised(s: GovernanceSettings): GovernanceSettings {
  s.setSiteLevel('kasese', 'L2');
  return s;
}

/**
 * Billing integrity (issue 8 §2) on a real SQLite file: every date is fixed in the test, none comes
 * from the machine's clock, so the results do not depend on the day or hour the suite runs.
 */

const flat = (id: string, effectiveFrom: string, priceE4: number, extra: object = {}) => ({
  id,
  name: id,
  currency: 'UGX',
  versions: [{ version: 1, effectiveFrom, energy: { kind: 'flat', priceE4 }, ...extra }],
});

function site(t: { after: (fn: () => void) => void }) {
  const db = tempDb(t);
  const ledger = new Ledger(db, 'kasese', 'UGX');
  ledger.openAccount('cash:cash', 'asset');
  const pay = (customer: string, amount: number, atMs: number): void =>
    void ledger.post({
      key: `pay:${customer}:${atMs}`,
      kind: 'payment',
      reference: 'cash',
      atMs,
      lines: [
        { account: 'cash:cash', amountMinor: minor(amount) },
        { account: `customer:${customer}`, amountMinor: minor(-amount) },
      ],
    });
  return { db, ledger, pay };
}

test('prepaid charging: a poisoned customer (tariff not yet in force, amount out of range) does not stop the others; their zero events are committed with their charge', (t) => {
  const { db, ledger, pay } = site(t);
  const t0 = local('2026-03-02T00:00:00');
  saveTariff(db, flat('domestic', '2026-01-01', 2_500_000));
  saveTariff(db, flat('future', '2026-06-01', 2_500_000)); // not in force for March
  saveTariff(db, flat('dear', '2026-01-01', 10_000_000_000)); // UGX 1,000,000/kWh, the largest price allowed
  const customers = [
    ['a-bad', 'future', 'meter2'],
    ['b-good', 'domestic', 'meter3'],
    ['c-huge', 'dear', 'meter4'],
    ['d-good', 'domestic', 'meter5'],
  ] as const;
  for (const [id, tariffId, key] of customers) {
    createCustomer(db, ledger, { id, name: id, phone: '+256772123456', site: 'kasese', tariffId, mode: 'prepaid' });
    insertIntervals(db, meter(db, key), [row(t0, key === 'meter4' ? 1e8 : 1)]);
    assignMeter(db, id, key, t0);
    pay(id, 100, t0);
  }
  const opts = { ledger, timeZone: TZ, lowBalanceThresholdsMinor: [50] };
  const r = chargeNewIntervals(db, t0 + 2 * Q, opts);

  assert.deepEqual(
    r.charges.map((c) => [c.customerId, c.amountMinor]),
    [
      ['b-good', 250],
      ['d-good', 250],
    ],
  );
  assert.deepEqual(
    r.failures.map((f) => f.customerId),
    ['a-bad', 'c-huge'],
  );
  assert.match(r.failures[0]?.reason ?? '', /no tariff version in force/);
  assert.match(r.failures[1]?.reason ?? '', /bound/);
  assert.equal(prepaidCredit(ledger, 'a-bad'), 100, 'the failed customer is untouched');
  assert.equal(prepaidCredit(ledger, 'b-good'), -150);
  // The events of the customers charged were committed with their charges, not lost with the run.
  const kept = takeBalanceEvents(db);
  assert.deepEqual(
    kept.events.map((e) => [e.customerId, e.kind]),
    [
      ['b-good', 'low-balance'],
      ['b-good', 'zero'],
      ['d-good', 'low-balance'],
      ['d-good', 'zero'],
    ],
  );
  kept.done();
  assert.equal(takeBalanceEvents(db).events.length, 0);
  // The failed customers are retried (and fail again) on the next run; nothing of theirs was committed.
  const again = chargeNewIntervals(db, t0 + 3 * Q, opts);
  assert.deepEqual(
    again.failures.map((f) => f.customerId),
    ['a-bad', 'c-huge'],
  );
  assert.equal(again.charges.length, 0);
  assert.equal(ledger.trialBalance().totalMinor, 0);
});

function governed(t: { after: (fn: () => void) => void }, clockStart: number) {
  const { db, ledger, pay } = site(t);
  saveTariff(db, flat('domestic', '2026-01-01', 2_500_000));
  const clock = manualClock(clockStart);
  const events = new CreditEventHub();
  const prepaid = new PrepaidRuntime({ db, ledger, timeZone: TZ, lowBalanceThresholdsMinor: [], provisionalFromRawReadings: false, events });
  const switched: string[] = [];
  const gate = new GovernanceGate({
    site: 'kasese',
    // No windows: the outcome does not depend on the hour.
    policy: disconnectPolicySchema.parse({ timeZone: TZ, noDisconnectWindows: [], noDisconnectWeekdays: [] }),
    proposals: new ProposalStore(db),
    settings: supervised(new GovernanceSettings(db)),
    audit: new AuditLog(db),
    relays: {
      open: (m: number) => {
        switched.push(`open ${m}`);
        return Promise.resolve({ before: 'closed', after: 'open' });
      },
      close: (m: number) => {
        switched.push(`close ${m}`);
        return Promise.resolve({ before: 'open', after: 'closed' });
      },
    } as never,
    isProtected: () => false,
    clock,
  });
  const meters = new Map<string, number>();
  const sms: string[] = [];
  const loop = new PrepaidLoop({
    events,
    gate,
    sms: { notify: (to: string, m: { kind: string }) => (sms.push(`${to} ${m.kind}`), 1) },
    customer: (id) => (meters.has(id) ? { id, name: id, phone: '+256700000000', meter: meters.get(id) as number } : undefined),
    stillAtZero: (id) => prepaid.available(id, clock()) <= 0,
    reproposeAfterMs: 3600_000,
    clock,
  });
  loop.start();
  const add = (id: string, meterNo: number): void => {
    createCustomer(db, ledger, { id, name: id, phone: '+256700000000', site: 'kasese', tariffId: 'domestic', mode: 'prepaid' });
    meters.set(id, meterNo);
  };
  const run = async (): Promise<void> => {
    const r = prepaid.run(clock());
    await loop.ensureDisconnects(r.atZero);
    await loop.idle();
  };
  const open = (meterNo: number) =>
    gate.list().filter((p) => p.asset.meter === meterNo && p.capability === 'disconnect' && (p.state === 'pending' || p.state === 'approved'));
  return { db, ledger, pay, clock, gate, add, run, open, sms, switched };
}

test('prepaid disconnect is level-triggered: created at zero, negative, after a rejection or expiry: exactly one open proposal', async (t) => {
  const start = local('2026-03-04T10:00:00');
  const g = governed(t, start);
  g.add('zero', 2); // created at zero credit, never crossed from above
  g.add('neg', 3);
  g.pay('neg', -500, start); // a correction leaves the account negative
  g.add('paid', 4);
  g.pay('paid', 1000, start);

  await g.run();
  assert.equal(g.open(2).length, 1, 'a customer created at zero credit gets a proposal');
  assert.equal(g.open(3).length, 1, 'a customer at negative credit gets a proposal');
  assert.equal(g.open(4).length, 0, 'a customer with credit does not');
  assert.equal(g.sms.filter((s) => /disconnect-warning/.test(s)).length, 2);

  // Running again changes nothing: still exactly one each, no second warning.
  await g.run();
  await g.run();
  assert.equal(g.open(2).length, 1);
  assert.equal(g.open(3).length, 1);
  assert.equal(g.sms.filter((s) => /disconnect-warning/.test(s)).length, 2);

  // An operator rejects one: not re-proposed at once, but within reproposeAfterMs the level holds again.
  const rejected = g.open(2)[0];
  assert.ok(rejected);
  g.gate.reject(rejected.id, 'ops', 'visit first');
  await g.run();
  assert.equal(g.open(2).length, 0);
  g.clock.advance(3600_000);
  await g.run();
  assert.equal(g.open(2).length, 1, 'still at zero and supplied an hour later: proposed again');

  // Proposals nobody decided expire after 24 h; the customer still at zero gets a fresh one.
  g.clock.advance(25 * 3600_000);
  await g.run();
  assert.equal(g.open(3).length, 1);
  assert.ok(g.gate.list('expired').some((p) => p.asset.meter === 3));

  // Approved and executed: the supply is off, so no new proposal.
  const p = g.open(3)[0];
  assert.ok(p);
  const done = await g.gate.approve(p.id, 'ops');
  assert.equal(done.state, 'executed');
  assert.equal(done.decidedBy, 'ops', 'the executed proposal names the operator who approved it');
  await g.run();
  assert.equal(g.open(3).length, 0);
  assert.deepEqual(g.switched, ['open 3']);
});

test('postpaid: the fixed charge and fees are prorated to the days with a meter; no meter, no invoice lines', (t) => {
  const { db, ledger } = site(t);
  saveTariff(db, flat('monthly', '2026-01-01', 2_500_000, { fixedMonthlyMinor: 3100, fees: [{ name: 'Meter rental', amountMinor: 6200 }] }));
  createCustomer(db, ledger, { id: 'late', name: 'Late', phone: '+256772123456', site: 'kasese', tariffId: 'monthly', mode: 'postpaid' });
  createCustomer(db, ledger, { id: 'none', name: 'None', phone: '+256772123457', site: 'kasese', tariffId: 'monthly', mode: 'postpaid' });
  meter(db, 'meter7');
  assignMeter(db, 'late', 'meter7', local('2026-03-28T10:30:00')); // March has 31 days: 28, 29, 30, 31
  const issued = LocalCalendar.for(TZ).monthRange('2026-04')[0] + 3600_000;
  const inv = invoiceMonth(db, ledger, 'late', '2026-03', TZ, issued);
  assert.deepEqual(
    inv.bill.lines.map((l) => [l.kind, l.amountMinor]),
    [
      ['fixed', 400],
      ['fee', 800],
    ],
  );
  assert.match(inv.bill.lines[0]?.description ?? '', /4\/31 days/);
  assert.equal(ledger.balance('customer:late'), 1200);

  assert.throws(() => invoiceMonth(db, ledger, 'none', '2026-03', TZ, issued), /no meter and used no energy in 2026-03: there is nothing to invoice/);
  assert.equal(ledger.balance('customer:none'), 0);
  assert.equal(db.prepare("SELECT count(*) FROM billing_invoices WHERE customer_id = 'none'").pluck().get(), 0);
});

test('tariffs: a refused tariff leaves no row (impossible date, wrong currency, out-of-range amounts); refusals are sentences', (t) => {
  const { db } = site(t);
  const refused: Array<[unknown, RegExp]> = [
    [flat('feb31', '2026-02-31', 2_500_000), /versions\.0\.effectiveFrom: found "2026-02-31"; .*not a day of the calendar/],
    [{ ...flat('kes', '2026-01-01', 2_500_000), currency: 'KES' }, /currency: found "KES"; this site bills in UGX/],
    [flat('dear', '2026-01-01', 10_000_000_001), /versions\.0\.energy\.priceE4: found 10000000001/],
    [flat('fixed', '2026-01-01', 1, { fixedMonthlyMinor: 9_007_199_254_740_991 }), /fixedMonthlyMinor: found 9007199254740991/],
  ];
  for (const [input, message] of refused) {
    assert.throws(() => saveTariff(db, input, { currency: 'UGX' }), message);
    const id = (input as { id: string }).id;
    assert.equal(loadTariff(db, id), undefined, `${id} was not stored`);
  }
  assert.equal(db.prepare('SELECT count(*) FROM billing_tariffs').pluck().get(), 0);
  // The same id is usable afterwards.
  assert.equal(saveTariff(db, flat('feb31', '2026-02-28', 2_500_000), { currency: 'UGX' }).id, 'feb31');
});
