import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDb } from './helpers/temp-db.js';
import { Ledger } from '../src/billing/ledger.js';
import { minor } from '../src/billing/money.js';

function setup(t: { after: (fn: () => void) => void }): Ledger {
  const l = new Ledger(tempDb(t), 'kasese', 'UGX');
  l.openAccount('cash:mtn', 'asset');
  l.openAccount('customer:c1', 'liability');
  l.openAccount('fees:mtn', 'expense');
  l.openAccount('revenue:energy', 'revenue');
  return l;
}
const m = minor;

test('ledger: balanced transactions only, idempotent keys, balances, statements, trial balance', (t) => {
  const l = setup(t);
  assert.throws(
    () =>
      l.post({
        key: 'bad',
        kind: 'payment',
        reference: 'x',
        atMs: 1,
        lines: [
          { account: 'cash:mtn', amountMinor: m(100) },
          { account: 'customer:c1', amountMinor: m(-99) },
        ],
      }),
    /does not balance/,
  );
  assert.throws(
    () =>
      l.post({
        key: 'bad2',
        kind: 'payment',
        reference: 'x',
        atMs: 1,
        lines: [
          { account: 'cash:nope', amountMinor: m(100) },
          { account: 'customer:c1', amountMinor: m(-100) },
        ],
      }),
    /unknown account/,
  );
  assert.throws(() =>
    l.post({
      key: 'bad3',
      kind: 'payment',
      reference: 'x',
      atMs: 1,
      lines: [
        { account: 'cash:mtn', amountMinor: 0.5 as ReturnType<typeof m> },
        { account: 'customer:c1', amountMinor: -0.5 as ReturnType<typeof m> },
      ],
    }),
  );
  assert.equal(l.trialBalance().totalMinor, 0);
  assert.deepEqual(l.trialBalance().accounts, {});

  // A payment of 10,000 with a 200 fee borne by the operator.
  const pay = {
    key: 'mtn:abc',
    kind: 'payment',
    reference: 'MTN abc',
    atMs: 1000,
    lines: [
      { account: 'cash:mtn', amountMinor: m(9800) },
      { account: 'fees:mtn', amountMinor: m(200) },
      { account: 'customer:c1', amountMinor: m(-10000) },
    ],
  };
  const first = l.post(pay);
  assert.equal(first.duplicate, false);
  const again = l.post({
    ...pay,
    lines: [
      { account: 'cash:mtn', amountMinor: m(1) },
      { account: 'customer:c1', amountMinor: m(-1) },
    ],
  });
  assert.equal(again.duplicate, true);
  assert.equal(again.tx.id, first.tx.id);
  assert.equal(l.balance('customer:c1'), -10000);

  l.post({
    key: 'use1',
    kind: 'consumption',
    reference: 'r',
    atMs: 2000,
    lines: [
      { account: 'customer:c1', amountMinor: m(3000) },
      { account: 'revenue:energy', amountMinor: m(-3000) },
    ],
  });
  assert.equal(l.balance('customer:c1', 1500), -10000);
  assert.equal(l.balance('customer:c1'), -7000);
  const st = l.statement('customer:c1', 1500, 3000);
  assert.equal(st.openingMinor, -10000);
  assert.deepEqual(
    st.rows.map((r) => [r.kind, r.amountMinor, r.balanceMinor]),
    [['consumption', 3000, -7000]],
  );
  assert.equal(st.closingMinor, -7000);

  // Corrections reverse; a second reversal and reversing a reversal are refused.
  const rev = l.reverse(first.tx.id, { key: 'rev:mtn:abc', reference: 'chargeback', atMs: 3000 });
  assert.deepEqual(
    rev.tx.lines.map((x) => x.amountMinor),
    [-9800, -200, 10000],
  );
  assert.equal(l.reverse(first.tx.id, { key: 'rev:mtn:abc', reference: 'again', atMs: 3001 }).duplicate, true);
  assert.throws(() => l.reverse(first.tx.id, { key: 'rev2', reference: 'again', atMs: 3001 }), /already reversed/);
  assert.throws(() => l.reverse(rev.tx.id, { key: 'rev3', reference: 'x', atMs: 3001 }), /itself a reversal/);
  assert.equal(l.balance('customer:c1'), 3000);
  assert.equal(l.trialBalance().totalMinor, 0);
  assert.equal(l.trialBalance(1500).totalMinor, 0);

  // Append-only, even to a hand-written UPDATE.
  assert.throws(() => l.db.prepare('UPDATE billing_entries SET amount = 0').run(), /append-only/);
  assert.throws(() => l.db.prepare('DELETE FROM billing_transactions').run(), /append-only/);
  assert.throws(() => new Ledger(l.db, 'kasese', 'KES'), /UGX/);
  assert.equal(Ledger.open(l.db, 'kasese')?.currency, 'UGX');
});
