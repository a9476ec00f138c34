import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { CashBook } from '../src/payments/adapters/cash.js';
import { NO_FEES } from '../src/payments/fees.js';
import { IntentStore } from '../src/payments/intent-store.js';
import { DuplicateReceipt, PaymentProcessor } from '../src/payments/processor.js';
import { reconcile } from '../src/payments/reconcile.js';
import { RecordingLedger, startPaymentApi } from '../src/payments/sandbox/harness.js';

function setup(t: TestContext) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-pay-'));
  const file = path.join(dir, 'pay.db');
  const ledger = new RecordingLedger();
  const open = () => {
    const db = new Database(file);
    const processor = new PaymentProcessor({ store: new IntentStore(db), providers: {}, cash: new CashBook(db, NO_FEES), ledger });
    return { db, processor };
  };
  const first = open();
  t.after(() => {
    if (first.db.open) first.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ledger, ...first, reopen: open };
}

describe('cash recorded by an agent', () => {
  it('credits once per receipt number; a duplicate receipt is refused and leaves nothing behind', async (t) => {
    const h = setup(t);
    const i = await h.processor.recordCash({ account: 'acc-4', amountMinor: 20_000, currency: 'UGX', receipt: 'R-000123', agent: 'agent-amina' });
    assert.equal(i.state, 'successful');
    assert.equal(i.providerTxId, 'R-000123');
    await assert.rejects(
      h.processor.recordCash({ account: 'acc-5', amountMinor: 9_000, currency: 'UGX', receipt: 'R-000123', agent: 'agent-bosco' }),
      DuplicateReceipt,
    );
    assert.equal(h.processor.store.forAccount('acc-5').length, 0);
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(h.ledger.accountTotal('acc-4'), 20_000);
    await assert.rejects(h.processor.recordCash({ account: 'acc-4', amountMinor: 100.5, currency: 'UGX', receipt: 'R-000124', agent: 'agent-amina' }));
  });

  it('a crash after the receipt was written but before crediting is finished by recover()', async (t) => {
    const h = setup(t);
    h.ledger.crashAfterNext = true;
    await assert.rejects(h.processor.recordCash({ account: 'acc-4', amountMinor: 7_000, currency: 'UGX', receipt: 'R-000200', agent: 'agent-amina' }));
    h.db.close();
    const again = h.reopen();
    t.after(() => again.db.close());
    await again.processor.recover();
    assert.equal(again.processor.store.forAccount('acc-4')[0]?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('reconciliation: a receipt in the agent book we never booked, and a receipt whose amount was changed', async (t) => {
    const h = setup(t);
    const ok = await h.processor.recordCash({ account: 'acc-4', amountMinor: 1_000, currency: 'UGX', receipt: 'R-1', agent: 'a' });
    const changed = await h.processor.recordCash({ account: 'acc-4', amountMinor: 2_000, currency: 'UGX', receipt: 'R-2', agent: 'a' });
    new CashBook(h.db, NO_FEES).record({ receipt: 'R-3', agent: 'a', account: 'acc-4', amountMinor: 3_000, currency: 'UGX', atMs: Date.now() });
    h.db.prepare("UPDATE payment_cash_receipts SET amount_minor = 2500 WHERE receipt = 'R-2'").run();
    const r = await reconcile(h.processor, 0, Date.now() + 1000);
    assert.deepEqual(
      r.matched.map((l) => l.reference),
      [ok.id],
    );
    assert.deepEqual(
      r.amountMismatches.map((l) => l.reference),
      [changed.id],
    );
    assert.deepEqual(
      r.missingInOurBooks.map((l) => l.providerRef),
      ['R-3'],
    );
  });

  it('HTTP: an operator records cash with a receipt; the same receipt again is 409', async (t) => {
    const h = setup(t);
    const api = await startPaymentApi(h.db, h.processor);
    t.after(() => api.close());
    const post = (body: unknown, token = api.tokens.operator) =>
      fetch(`${api.url}/api/payments/cash`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const body = { account: 'acc-6', amountMinor: 15_000, currency: 'UGX', receipt: 'BK7-0001' };
    assert.equal((await post(body, api.tokens.viewer)).status, 403);
    const first = await post(body);
    assert.equal(first.status, 200);
    const json = (await first.json()) as { payment: { state: string } };
    assert.equal(json.payment.state, 'successful');
    assert.equal((await post(body)).status, 409);
    assert.equal(h.ledger.credits.size, 1);
  });
});
