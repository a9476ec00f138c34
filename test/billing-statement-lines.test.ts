import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStatement } from '../src/billing-runtime/statement-lines.js';
import { minor } from '../src/billing/money.js';
import type { StatementRow } from '../src/billing/ledger.js';
import { insertIntervals } from '../src/store/interval-table.js';
import { tempDb } from './helpers/temp-db.js';
import { TZ, local, Q, intervalRow as row, meterId as meter } from './helpers/billing-fixtures.js';

const st = (atMs: number, kind: string, reference: string, amount: number): StatementRow => ({
  txId: 1,
  atMs,
  kind,
  reference,
  amountMinor: minor(amount),
  balanceMinor: minor(0),
});

test('statement lines read as words in the site time zone; the machine reference is kept', (t) => {
  const db = tempDb(t);
  const m3 = meter(db, 'meter3');
  const m4 = meter(db, 'meter4');
  const t0 = local('2026-06-10T14:00:00');
  insertIntervals(db, m3, [row(t0 - Q, 1), row(t0, 0.42), row(t0 + Q, 0.3)]);
  insertIntervals(db, m4, [row(t0, 0.1)]);
  const week = local('2026-06-03T10:15:00');
  insertIntervals(
    db,
    m3,
    Array.from({ length: 8 }, (_, i) => row(week + i * Q, 0.5)),
  );
  const rows = describeStatement(
    db,
    [
      st(t0 + Q + 30_000, 'consumption', `meter3@${t0}-${t0 + Q}`, 105),
      st(t0 + Q + 30_000, 'consumption', `meter3@${local('2026-06-09T23:45:00')}-${local('2026-06-10T00:00:00')}`, 0),
      st(t0 + 2 * Q, 'consumption', `meter3@${week}-${local('2026-06-10T14:00:00')}`, 1000),
      st(t0 + Q + 30_000, 'consumption', `meter3@${t0}-${t0 + Q},meter4@${t0}-${t0 + Q}`, 130),
      st(t0, 'consumption', 'meter3@resolved#4', 10),
      st(t0, 'payment', 'cash R-0042', -5000),
      st(t0, 'payment', 'airtel MP2606101.1234.A', -5000),
      st(local('2026-06-10T00:00:00'), 'fixed-charge', 'fixed charge and fees 2026-06-10', 200),
      st(t0, 'invoice', 'invoice bosco 2026-05', 20360),
      st(t0, 'reversal', 'entered twice', 5000),
    ],
    TZ,
  );
  const d = rows.map((r) => r.description);
  assert.equal(d[0], 'Energy 14:00–14:15, 0.42 kWh');
  assert.equal(rows[0]?.reference, `meter3@${t0}-${t0 + Q}`, 'the reference stays machine-readable');
  assert.equal(rows[0].energyKWh, 0.42);
  assert.equal(d[1], 'Energy 9 Jun 23:45–00:00, 0.00 kWh', 'another day than the row is named');
  assert.equal(d[2], 'Energy 3 Jun 10:15 – 10 Jun 14:00, 5.00 kWh', 'a range across days names both (8 × 0.5 + the 13:45 interval)');
  assert.equal(d[3], 'Energy meter3 14:00–14:15 0.42 kWh; meter4 14:00–14:15 0.10 kWh, 0.52 kWh');
  assert.equal(d[4], 'Energy corrected interval of meter3');
  assert.equal(d[5], 'Cash payment, receipt R-0042');
  assert.equal(d[6], 'Airtel Money payment, transaction MP2606101.1234.A');
  assert.equal(d[7], 'Fixed charge and fees, 10 Jun');
  assert.equal(d[8], 'Invoice for May 2026');
  assert.equal(d[9], 'Reversal: entered twice');
  for (const r of rows) assert.doesNotMatch(r.description, /@\d{10,}/, 'no raw timestamps');
});
