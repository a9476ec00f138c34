import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { PesapalAdapter } from '../src/payments/adapters/pesapal.js';
import type { FeeConfig } from '../src/payments/fees.js';
import { IntentStore } from '../src/payments/intent-store.js';
import { PaymentProcessor } from '../src/payments/processor.js';
import { reconcile } from '../src/payments/reconcile.js';
import { paymentHarness } from './helpers/payment-harness.js';
import { PesapalSandbox, type PesapalSandboxOptions } from '../src/payments/sandbox/pesapal.js';

const FEES: FeeConfig = { bearer: 'customer', schedules: [{ effectiveFromMs: 0, bands: [{ upToMinor: null, fixedMinor: 0, percentBp: 350 }] }] };

async function setup(t: TestContext, opts: Partial<PesapalSandboxOptions> = {}) {
  const sandbox = new PesapalSandbox({ consumerKey: 'ck', consumerSecret: 'cs', mixedCase: true, ...opts });
  const h = await paymentHarness(t, sandbox, (db, ledger, baseUrl, apiUrl) => {
    const adapter = new PesapalAdapter({
      baseUrl,
      consumerKey: 'ck',
      consumerSecret: 'cs',
      callbackUrl: 'https://grid.example/paid',
      countryCode: 'UG',
      fees: FEES,
      get ipnUrl() {
        return `${apiUrl()}/api/payments/callbacks/pesapal`;
      },
    });
    return new PaymentProcessor({ store: new IntentStore(db), providers: { pesapal: adapter }, ledger });
  });
  return { ...h, apiUrl: h.api.url };
}

const pay = (p: PaymentProcessor, amountMinor = 50_000) =>
  p.start({ account: 'acc-3', provider: 'pesapal', msisdn: '0772123456', amountMinor, currency: 'UGX', description: 'Electricity credit' });
const tracking = (i: { providerRef: string | null }) => i.providerRef ?? assert.fail('no tracking id');

describe('Pesapal 3.0 adapter against the Pesapal sandbox', () => {
  it('a successful order: token, IPN registration, order, IPN, status re-query, credited once, exact ack', async (t) => {
    const h = await setup(t);
    const r = await pay(h.processor);
    assert.match(r.redirectUrl ?? '', /OrderTrackingId=/);
    assert.deepEqual([r.intent.feeMinor, r.intent.payerPaysMinor], [1750, 51_750]);
    assert.equal(h.sandbox.orders.get(tracking(r.intent))?.amount, 51_750);
    h.sandbox.decide(tracking(r.intent), 1);
    await h.sandbox.settle();
    assert.equal(h.sandbox.deliveries.length, 1, 'the first ack was exact, so Pesapal did not resend');
    assert.deepEqual(JSON.parse(h.sandbox.deliveries[0]?.body ?? '{}'), {
      orderNotificationType: 'IPNCHANGE',
      orderTrackingId: tracking(r.intent),
      orderMerchantReference: r.intent.id,
      status: 200,
    });
    const done = h.processor.store.get(r.intent.id);
    assert.equal(done?.state, 'successful');
    assert.equal(done.providerTxId, h.sandbox.orders.get(tracking(r.intent))?.confirmationCode);
    assert.equal(h.ledger.accountTotal('acc-3'), 50_000);
  });

  it('ten IPNs, a late replay and a GET IPN credit once', async (t) => {
    const h = await setup(t, { ipn: 'manual' });
    const { intent } = await pay(h.processor);
    h.sandbox.decide(tracking(intent), 1);
    await h.sandbox.ipn(tracking(intent), { times: 10 });
    await h.sandbox.ipn(tracking(intent), { delayMs: 20 });
    const q = new URLSearchParams({ OrderTrackingId: tracking(intent), OrderMerchantReference: intent.id, OrderNotificationType: 'IPNCHANGE' });
    assert.equal((await fetch(`${h.apiUrl}/api/payments/callbacks/pesapal?${q.toString()}`)).status, 200);
    assert.equal(h.ledger.credits.size, 1);
    assert.equal(h.ledger.repeats, 0);
  });

  it('out of order: an IPN while pending does nothing; FAILED then COMPLETED credits once and is flagged; a later REVERSED cannot undo the credit', async (t) => {
    const h = await setup(t, { ipn: 'manual' });
    const { intent } = await pay(h.processor);
    await h.sandbox.ipn(tracking(intent));
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    h.sandbox.decide(tracking(intent), 2);
    await h.sandbox.ipn(tracking(intent));
    assert.equal(h.processor.store.get(intent.id)?.state, 'failed');
    h.sandbox.decide(tracking(intent), 1);
    await h.sandbox.ipn(tracking(intent));
    assert.equal(h.processor.store.get(intent.id)?.state, 'successful');
    assert.ok(h.processor.store.flags().some((f) => f.kind === 'late_success'));
    h.sandbox.decide(tracking(intent), 3);
    await h.sandbox.ipn(tracking(intent));
    assert.equal(h.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
    const r = await reconcile(h.processor, 0, Date.now() + 1000);
    assert.deepEqual(
      r.missingAtProvider.map((l) => l.reference),
      [intent.id],
      'the reversal shows up for a person to handle',
    );
  });

  it('forged IPNs: a made-up tracking id is ignored in favour of ours; a collection smaller than asked credits only what was verified, flagged', async (t) => {
    const h = await setup(t, { ipn: 'manual' });
    const { intent } = await pay(h.processor);
    const forged = await fetch(`${h.apiUrl}/api/payments/callbacks/pesapal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ OrderTrackingId: 'forged-id', OrderMerchantReference: intent.id, OrderNotificationType: 'IPNCHANGE' }),
    });
    assert.equal(forged.status, 200);
    assert.equal(h.processor.store.get(intent.id)?.state, 'pending');
    h.sandbox.setAmount(tracking(intent), 5_000);
    h.sandbox.decide(tracking(intent), 1);
    await h.sandbox.ipn(tracking(intent));
    const done = h.processor.store.get(intent.id);
    assert.equal(done?.creditedGrossMinor, 5_000);
    assert.ok(h.processor.store.flags().some((f) => f.kind === 'amount_mismatch' && f.intentId === intent.id));
    assert.ok(h.ledger.accountTotal('acc-3') <= 5_000);
  });

  it('crash between storing an IPN and crediting it: credited exactly once after restart', async (t) => {
    const h = await setup(t, { ipn: 'manual' });
    const { intent } = await pay(h.processor);
    h.sandbox.decide(tracking(intent), 1);
    h.processor.storeCallback(
      'pesapal',
      JSON.stringify({ OrderTrackingId: tracking(intent), OrderMerchantReference: intent.id, OrderNotificationType: 'IPNCHANGE' }),
      {},
    );
    h.db.close();
    const again = h.reopen();
    t.after(() => again.db.close());
    await again.processor.recover();
    await again.processor.recover();
    assert.equal(again.processor.store.get(intent.id)?.state, 'successful');
    assert.equal(h.ledger.credits.size, 1);
  });

  it('the token is refreshed from expiryDate', async (t) => {
    const h = await setup(t, { ipn: 'manual', tokenTtlMs: 40 });
    await pay(h.processor);
    await new Promise((r) => setTimeout(r, 60));
    const second = await pay(h.processor);
    assert.equal(second.intent.state, 'pending');
    assert.ok(second.intent.providerRef);
  });

  it('reconciliation: a payment missing in our books, a credit missing at the provider, an amount mismatch', async (t) => {
    const h = await setup(t, { ipn: 'manual' });
    const from = Date.now() - 1000;
    const [ok, mismatched, vanished, unbooked] = [await pay(h.processor), await pay(h.processor), await pay(h.processor), await pay(h.processor)];
    for (const p of [ok, mismatched, vanished]) {
      h.sandbox.decide(tracking(p.intent), 1);
      await h.sandbox.ipn(tracking(p.intent));
    }
    h.sandbox.decide(tracking(unbooked.intent), 1);
    h.sandbox.setAmount(tracking(mismatched.intent), 40_000);
    h.sandbox.forget(tracking(vanished.intent));
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
});
