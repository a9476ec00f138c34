import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { MtnAdapter } from '../src/payments/adapters/mtn.js';
import type { FeeConfig } from '../src/payments/fees.js';
import { IntentStore } from '../src/payments/intent-store.js';
import { PaymentProcessor } from '../src/payments/processor.js';
import { reconcile } from '../src/payments/reconcile.js';
import { paymentHarness } from './helpers/payment-harness.js';
import { MtnSandbox, type MtnSandboxOptions } from '../src/payments/sandbox/mtn.js';

const FEES: FeeConfig = { bearer: 'customer', schedules: [{ effectiveFromMs: 0, bands: [{ upToMinor: null, fixedMinor: 0, percentBp: 100 }] }] };
const CREDS = { subscriptionKey: 'sub-key', apiUserId: randomUUID(), apiKey: 'api-key-1' };

function setup(t: TestContext, opts: Partial<MtnSandboxOptions> = {}) {
  const sandbox = new MtnSandbox({ ...CREDS, providerCallbackHost: '127.0.0.1', ...opts });
  return paymentHarness(t, sandbox, (db, ledger, baseUrl, apiUrl) => {
    const adapter = new MtnAdapter({
      baseUrl,
      ...CREDS,
      targetEnvironment: 'sandbox',
      fees: FEES,
      get callbackUrl() {
        return `${apiUrl()}/api/payments/callbacks/mtn`;
      },
    });
    return new PaymentProcessor({ store: new IntentStore(db), providers: { mtn: adapter }, ledger, sweepGapMs: 0 });
  });
}

/** The sandbox's transaction for a payment; the test fails when the sandbox has none. */
const txOf = (sandbox: MtnSandbox, id: string) => sandbox.txs.get(id) ?? assert.fail(`the sandbox has no transaction ${id}`);

const pay = (p: PaymentProcessor, msisdn = '46733123999', reference?: string) =>
  p.start({
    account: 'acc-1',
    provider: 'mtn',
    msisdn,
    amountMinor: 5000,
    currency: 'EUR',
    description: 'Electricity credit',
    ...(reference ? { reference } : {}),
  });

describe('MTN MoMo adapter against the MTN sandbox', () => {
  it('a successful payment: request, callback (POST and PUT), status re-query, credited once with the fee shown', async (t) => {
    for (const method of ['POST', 'PUT'] as const) {
      const h = await setup(t, { callbackMethod: method });
      const { intent } = await pay(h.processor);
      assert.equal(intent.payerPaysMinor, 5050);
      assert.equal(intent.feeMinor, 50);
      await h.sandbox.settle();
      const done = h.processor.store.get(intent.id);
      assert.equal(done?.state, 'successful', method);
      assert.equal(done.creditedGrossMinor, 5050);
      assert.equal(h.ledger.credits.size, 1);
      assert.equal(h.ledger.accountTotal('acc-1'), 5000);
      assert.equal(h.sandbox.deliveries[0]?.status, 200);
      assert.match(done.providerTxId ?? '', /^\d+$/);
    }
  });

  it('the same callback ten times credits once; a replay after success does nothing', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const credited: string[] = [];
    h.processor.onCredited((i) => credited.push(i.id));
    const { intent } = await pay(h.processor);
    h.sandbox.finish(intent.id, 'SUCCESSFUL');
    const out = await h.sandbox.callback(intent.id, { times: 10 });
    assert.deepEqual(
      out.map((d) => d.status),
      Array(10).fill(200),
    );
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(h.ledger.repeats, 0);
    assert.deepEqual(credited, [intent.id]);
    await h.sandbox.callback(intent.id, { delayMs: 20, method: 'PUT' });
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(credited.length, 1);
  });

  it('ten concurrent callbacks credit once; one provider transaction id cannot credit two payments', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const { intent } = await pay(h.processor);
    h.sandbox.finish(intent.id, 'SUCCESSFUL');
    const body = JSON.stringify(h.sandbox.statusBody(txOf(h.sandbox, intent.id)));
    await Promise.all(Array.from({ length: 10 }, () => h.processor.receiveCallback('mtn', body, {}, { pathRef: intent.id })));
    assert.equal(h.ledger.credits.size, 1);
    const other = await pay(h.processor);
    txOf(h.sandbox, other.intent.id).financialTransactionId = txOf(h.sandbox, intent.id).financialTransactionId;
    h.sandbox.finish(other.intent.id, 'SUCCESSFUL');
    await h.sandbox.callback(other.intent.id);
    assert.equal(h.processor.store.get(other.intent.id)?.state, 'pending');
    assert.ok(h.processor.store.flags().some((f) => f.kind === 'duplicate_provider_tx'));
    assert.equal(h.ledger.credits.size, 1);
  });

  it('out of order: a FAILED callback while the provider says PENDING changes nothing; the later success credits', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const { intent } = await pay(h.processor, '46733123454'); // PayerDelayed: stays PENDING
    const forgedFail = { ...h.sandbox.statusBody(txOf(h.sandbox, intent.id)), status: 'FAILED', reason: 'APPROVAL_REJECTED' };
    await h.sandbox.callback(intent.id, { body: forgedFail });
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    h.sandbox.finish(intent.id, 'SUCCESSFUL');
    await h.sandbox.callback(intent.id);
    assert.equal(h.processor.store.get(intent.id)?.state, 'successful');
    // a late FAILED after success cannot undo it
    await h.sandbox.callback(intent.id, { body: forgedFail });
    assert.equal(h.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('a callback that arrives before our request row exists waits in the inbox and credits once the row is there', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const ref = randomUUID();
    const early = await h.processor.receiveCallback(
      'mtn',
      JSON.stringify({ amount: '50.5', currency: 'EUR', status: 'SUCCESSFUL', financialTransactionId: '42' }),
      {},
      { pathRef: ref },
    );
    assert.equal(early.outcome, 'waiting_for_intent');
    assert.equal(h.ledger.credits.size, 0);
    const { intent } = await pay(h.processor, '46733123999', ref); // the sandbox approves at once
    assert.equal(intent.id, ref);
    assert.equal(intent.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(h.processor.store.inboxOutcome(early.inboxId).outcome, 'credited');
  });

  it('forged callbacks: a body claiming 50,000 credits only the verified amount; a claimed success the status denies credits nothing; both are flagged', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const { intent } = await pay(h.processor);
    h.sandbox.finish(intent.id, 'SUCCESSFUL');
    const body = { ...h.sandbox.statusBody(txOf(h.sandbox, intent.id)), amount: '500' };
    await h.sandbox.callback(intent.id, { body });
    assert.equal(h.processor.store.get(intent.id)?.creditedGrossMinor, 5050);
    assert.equal(h.ledger.accountTotal('acc-1'), 5000);
    const second = await pay(h.processor, '46733123454');
    await h.sandbox.callback(second.intent.id, { body: { amount: '50.5', currency: 'EUR', status: 'SUCCESSFUL', financialTransactionId: '999' } });
    assert.equal(h.processor.store.get(second.intent.id)?.state, 'pending');
    assert.equal(h.ledger.credits.size, 1);
    const kinds = h.processor.store.flags().map((f) => f.kind);
    assert.ok(kinds.includes('callback_amount_disagrees'));
    assert.ok(kinds.includes('callback_status_disagrees'));
  });

  it('crash between storing a callback and crediting it: the reopened processor credits exactly once', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const { intent } = await pay(h.processor);
    h.sandbox.finish(intent.id, 'SUCCESSFUL');
    h.processor.storeCallback('mtn', JSON.stringify(h.sandbox.statusBody(txOf(h.sandbox, intent.id))), {}, { pathRef: intent.id });
    h.db.close(); // the process dies here
    const again = h.reopen();
    t.after(() => again.db.close());
    await again.processor.recover();
    assert.equal(again.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
    await again.processor.recover();
    assert.equal(h.ledger.credits.size, 1);
  });

  it('crash after the ledger write and before our commit: the restart re-delivers the same paymentId, which the ledger ignores', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const { intent } = await pay(h.processor);
    h.sandbox.finish(intent.id, 'SUCCESSFUL');
    h.ledger.crashAfterNext = true;
    await h.sandbox.callback(intent.id); // our route answers 500; the inbox row stays open
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    h.db.close();
    const again = h.reopen();
    t.after(() => again.db.close());
    await again.processor.recover();
    assert.equal(again.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(h.ledger.repeats, 1);
  });

  it('sandbox magic numbers: failed, refused at request time, and PayerOngoing settled by the sweeper', async (t) => {
    const h = await setup(t, { callbacks: 'drop', ongoingMs: 30 });
    const failed = await pay(h.processor, '46733123450');
    await h.processor.sweep();
    assert.equal(h.processor.store.get(failed.intent.id)?.state, 'failed');
    const refused = await pay(h.processor, '46733123457');
    assert.equal(refused.intent.state, 'failed');
    assert.match(refused.intent.reason ?? '', /NOT_ALLOWED/);
    const ongoing = await pay(h.processor, '46733123453');
    await h.processor.sweep();
    assert.equal(h.processor.store.get(ongoing.intent.id)?.state, 'pending');
    await new Promise((r) => setTimeout(r, 40));
    await h.processor.sweep();
    assert.equal(h.processor.store.get(ongoing.intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('a request whose answer was lost is re-queried with the same id; one MTN never received is failed after a while', async (t) => {
    const h = await setup(t, { callbacks: 'drop' });
    await h.sandbox.stop(); // the network is down while we ask
    const lost = await pay(h.processor);
    assert.equal(lost.intent.state, 'pending');
    assert.equal(lost.intent.providerRef, lost.intent.id);
    const back = new MtnSandbox({ ...CREDS, providerCallbackHost: '127.0.0.1', callbacks: 'drop' });
    t.after(() => back.stop());
    const url = await back.start();
    const db = h.db;
    const adapter = new MtnAdapter({ baseUrl: url, ...CREDS, targetEnvironment: 'sandbox', fees: FEES });
    let now = Date.now();
    const p = new PaymentProcessor({ store: new IntentStore(db), providers: { mtn: adapter }, ledger: h.ledger, sweepGapMs: 0, now: () => now });
    await p.sweep();
    assert.equal(p.store.get(lost.intent.id)?.state, 'pending', 'unknown, but not yet old');
    now += 2 * 3_600_000;
    await p.sweep();
    assert.equal(p.store.get(lost.intent.id)?.state, 'failed');
    assert.equal(h.ledger.credits.size, 0);
  });

  it('reconciliation lists a payment missing in our books, one missing at the provider and an amount mismatch', async (t) => {
    const h = await setup(t, { callbacks: 'manual' });
    const from = Date.now() - 1000;
    const ok = await pay(h.processor);
    const mismatched = await pay(h.processor);
    const vanished = await pay(h.processor);
    const unbooked = await pay(h.processor);
    for (const p of [ok, mismatched, vanished]) {
      h.sandbox.finish(p.intent.id, 'SUCCESSFUL');
      await h.sandbox.callback(p.intent.id);
    }
    h.sandbox.finish(unbooked.intent.id, 'SUCCESSFUL'); // callback dropped; we never swept
    h.sandbox.setAmount(mismatched.intent.id, '40');
    h.sandbox.forget(vanished.intent.id);
    const r = await reconcile(h.processor, from, Date.now() + 1000);
    assert.deepEqual(
      r.matched.map((l) => l.reference),
      [ok.intent.id],
    );
    assert.deepEqual(
      r.amountMismatches.map((l) => l.reference),
      [mismatched.intent.id],
    );
    assert.deepEqual(
      r.missingAtProvider.map((l) => l.reference),
      [vanished.intent.id],
    );
    assert.deepEqual(
      r.missingInOurBooks.map((l) => l.reference),
      [unbooked.intent.id],
    );
  });

  it('HTTP: operators start payments, viewers may not, and only admins see the reconciliation', async (t) => {
    const h = await setup(t);
    const call = (method: string, url: string, token: string, body?: unknown) =>
      fetch(`${h.api.url}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const req = { account: 'acc-9', provider: 'mtn', msisdn: '46733123999', amountMinor: 5000, currency: 'EUR' };
    assert.equal((await call('POST', '/api/payments', h.api.tokens.viewer, req)).status, 403);
    const started = await call('POST', '/api/payments', h.api.tokens.operator, req);
    assert.equal(started.status, 200);
    await h.sandbox.settle();
    const list = (await (await call('GET', '/api/payments?account=acc-9', h.api.tokens.viewer)).json()) as { payments: Array<{ state: string }> };
    assert.deepEqual(
      list.payments.map((p) => p.state),
      ['successful'],
    );
    const quote = (await (
      await call('POST', '/api/payments/quote', h.api.tokens.viewer, { provider: 'mtn', amountMinor: 10000, currency: 'EUR' })
    ).json()) as Record<string, unknown>;
    assert.deepEqual([quote.amountMinor, quote.feeMinor, quote.payerPaysMinor, quote.creditMinor, quote.bearer], [10000, 100, 10100, 10000, 'customer']);
    assert.equal((await call('GET', '/api/payments/reconciliation?from=0&to=9999999999999', h.api.tokens.operator)).status, 403);
    const rec = (await (await call('GET', '/api/payments/reconciliation?from=0&to=9999999999999', h.api.tokens.admin)).json()) as { matched: unknown[] };
    assert.equal(rec.matched.length, 1);
    assert.equal((await call('POST', '/api/payments', h.api.tokens.operator, { ...req, amountMinor: 50.5 })).status, 400);
  });
});
