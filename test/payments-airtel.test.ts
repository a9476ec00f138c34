import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { AirtelAdapter } from '../src/payments/adapters/airtel.js';
import type { FeeConfig } from '../src/payments/fees.js';
import { IntentStore } from '../src/payments/intent-store.js';
import { PaymentProcessor } from '../src/payments/processor.js';
import { reconcile } from '../src/payments/reconcile.js';
import { paymentHarness } from './helpers/payment-harness.js';
import { AirtelSandbox } from '../src/payments/sandbox/airtel.js';

const FEES: FeeConfig = {
  bearer: 'operator',
  schedules: [
    {
      effectiveFromMs: 0,
      bands: [
        { upToMinor: 10_000, fixedMinor: 100, percentBp: 0 },
        { upToMinor: null, fixedMinor: 250, percentBp: 0 },
      ],
    },
  ],
};
const KEY = 'portal-private-key';

async function setup(t: TestContext, callbacks: 'auto' | 'manual' = 'auto') {
  const sandbox = new AirtelSandbox({ clientId: 'cid', clientSecret: 'secret', callbackUrl: '', callbackKey: KEY, callbacks });
  const h = await paymentHarness(t, sandbox, (db, ledger, baseUrl) => {
    const adapter = new AirtelAdapter({ baseUrl, clientId: 'cid', clientSecret: 'secret', country: 'UG', currency: 'UGX', callbackKey: KEY, fees: FEES });
    return new PaymentProcessor({ store: new IntentStore(db), providers: { airtel: adapter }, ledger });
  });
  sandbox.opts.callbackUrl = `${h.api.url}/api/payments/callbacks/airtel`;
  return h;
}

const pay = (p: PaymentProcessor, amountMinor = 5000) =>
  p.start({ account: 'acc-2', provider: 'airtel', msisdn: '+256752123456', amountMinor, currency: 'UGX', description: 'Yaka meter 0421' });

describe('Airtel Money adapter against the Airtel sandbox', () => {
  it('a successful payment: USSD push, signed callback, status re-query, credited once; the operator bears the fee', async (t) => {
    const h = await setup(t);
    const { intent } = await pay(h.processor);
    assert.equal(h.sandbox.txs.get(intent.id)?.msisdn, '752123456'); // Airtel USSD push: no country code
    assert.deepEqual([intent.amountMinor, intent.feeMinor, intent.payerPaysMinor, intent.bearer], [5000, 100, 5000, 'operator']);
    h.sandbox.decide(intent.id, 'TS');
    await h.sandbox.settle();
    const done = h.processor.store.get(intent.id);
    assert.equal(done?.state, 'successful');
    assert.match(done.providerTxId ?? '', /^MP/);
    assert.equal(h.ledger.accountTotal('acc-2'), 5000);
    assert.equal(h.ledger.credits.get(intent.id)?.feeMinor, 100);
  });

  it('ten identical callbacks and a late replay credit once', async (t) => {
    const h = await setup(t, 'manual');
    const { intent } = await pay(h.processor);
    h.sandbox.decide(intent.id, 'TS');
    await h.sandbox.callback(intent.id, { times: 10 });
    await h.sandbox.callback(intent.id, { delayMs: 20 });
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(h.ledger.repeats, 0);
  });

  it('out of order: a TF callback while the status is TIP or TA changes nothing; the later TS credits; a late TF cannot undo it', async (t) => {
    const h = await setup(t, 'manual');
    const { intent } = await pay(h.processor);
    await h.sandbox.callback(intent.id, { body: h.sandbox.callbackBody(intent.id, { status: 'TF' }) });
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    h.sandbox.decide(intent.id, 'TA');
    await h.sandbox.callback(intent.id, { body: h.sandbox.callbackBody(intent.id, { status: 'TS' }) });
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    h.sandbox.decide(intent.id, 'TS');
    await h.sandbox.callback(intent.id);
    await h.sandbox.callback(intent.id, { body: h.sandbox.callbackBody(intent.id, { status: 'TF' }) });
    assert.equal(h.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('the callback is stored byte for byte before processing, and an orphan callback is eventually closed and flagged', async (t) => {
    const h = await setup(t, 'manual');
    const { intent } = await pay(h.processor);
    h.sandbox.decide(intent.id, 'TS');
    const raw = `{ "transaction" :  ${JSON.stringify(h.sandbox.callbackBody(intent.id).transaction)},\n "hash": ${JSON.stringify(h.sandbox.callbackBody(intent.id).hash)} }`;
    await h.sandbox.callback(intent.id, { body: raw });
    const row = h.db.prepare('SELECT raw, outcome FROM payment_inbox ORDER BY id DESC LIMIT 1').get() as { raw: string; outcome: string };
    assert.equal(row.raw, raw);
    assert.equal(row.outcome, 'credited');
    const orphan = JSON.stringify({ transaction: { id: 'nobody', status_code: 'TS' } });
    const strict = new PaymentProcessor({
      store: h.processor.store,
      providers: { airtel: new AirtelAdapter({ baseUrl: h.sandbox.url, clientId: 'cid', clientSecret: 'secret', country: 'UG', currency: 'UGX', fees: FEES }) },
      ledger: h.ledger,
      maxInboxAttempts: 2,
    });
    const first = await strict.receiveCallback('airtel', orphan, {});
    assert.equal(first.outcome, 'waiting_for_intent');
    await strict.processInbox();
    await strict.processInbox();
    assert.equal(strict.store.inboxOutcome(first.inboxId).outcome, 'abandoned_no_intent');
    assert.ok(strict.store.flags().some((f) => f.kind === 'orphan_callback'));
  });

  it('a TF outcome fails the payment without money', async (t) => {
    const h = await setup(t);
    const { intent } = await pay(h.processor);
    h.sandbox.decide(intent.id, 'TF');
    await h.sandbox.settle();
    assert.equal(h.processor.store.get(intent.id)?.state, 'failed');
    assert.equal(h.ledger.credits.size, 0);
  });

  it('forged callbacks (wrong hash, missing hash) are refused and flagged before any status call; the genuine one credits', async (t) => {
    const h = await setup(t, 'manual');
    const { intent } = await pay(h.processor);
    h.sandbox.decide(intent.id, 'TS');
    await h.sandbox.callback(intent.id, { body: h.sandbox.callbackBody(intent.id, { badHash: true }) });
    await h.sandbox.callback(intent.id, { body: h.sandbox.callbackBody(intent.id, { noHash: true }) });
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    assert.equal(h.processor.store.flags().filter((f) => f.kind === 'bad_signature').length, 2);
    await h.sandbox.callback(intent.id);
    assert.equal(h.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('a duplicate transaction id (ESB000041) is treated as already created, not as a new payment', async (t) => {
    const h = await setup(t, 'manual');
    const adapter = h.processor.provider('airtel');
    const req = { reference: 'dup-ref-0001', msisdn: '0752123456', amountMinor: 5000, currency: 'UGX', description: 'x' };
    assert.equal((await adapter.requestPayment(req)).status, 'pending');
    assert.equal((await adapter.requestPayment(req)).providerRef, 'dup-ref-0001');
    assert.equal(h.sandbox.txs.size, 1);
  });

  it('crash between storing a callback and crediting it: credited exactly once after restart', async (t) => {
    const h = await setup(t, 'manual');
    const { intent } = await pay(h.processor);
    h.sandbox.decide(intent.id, 'TS');
    h.processor.storeCallback('airtel', JSON.stringify(h.sandbox.callbackBody(intent.id)), {});
    h.db.close();
    const again = h.reopen();
    t.after(() => again.db.close());
    await again.processor.recover();
    await again.processor.recover();
    assert.equal(again.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('reconciliation: a collection we never booked and a credit the provider does not know', async (t) => {
    const h = await setup(t, 'manual');
    const from = Date.now() - 1000;
    const ok = await pay(h.processor);
    const unbooked = await pay(h.processor);
    const vanished = await pay(h.processor);
    for (const p of [ok, vanished]) {
      h.sandbox.decide(p.intent.id, 'TS');
      await h.sandbox.callback(p.intent.id);
    }
    h.sandbox.decide(unbooked.intent.id, 'TS');
    h.sandbox.forget(vanished.intent.id);
    const r = await reconcile(h.processor, from, Date.now() + 1000);
    assert.deepEqual(
      r.matched.map((l) => l.reference),
      [ok.intent.id],
    );
    assert.deepEqual(
      r.missingInOurBooks.map((l) => l.reference),
      [unbooked.intent.id],
    );
    assert.deepEqual(
      r.missingAtProvider.map((l) => l.reference),
      [vanished.intent.id],
    );
  });
});
