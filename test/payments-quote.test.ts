import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CashBook } from '../src/payments/adapters/cash.js';
import { MtnAdapter } from '../src/payments/adapters/mtn.js';
import { creditFor, feeFor, quoteFor, type FeeConfig } from '../src/payments/fees.js';
import { IntentStore } from '../src/payments/intent-store.js';
import { airtelMsisdn, mtnMsisdn, toMajor, toMinor } from '../src/payments/money.js';
import { PaymentProcessor } from '../src/payments/processor.js';
import { RecordingLedger, startPaymentApi } from '../src/payments/sandbox/harness.js';

// A made-up banded table (docs/payments.md#fees: no current official tariff was found; fees are configuration).
const bands = [
  { upToMinor: 45_000, fixedMinor: 500, percentBp: 0 },
  { upToMinor: 60_000, fixedMinor: 2_650, percentBp: 0 },
  { upToMinor: null, fixedMinor: 0, percentBp: 100 },
];
const JAN = Date.UTC(2026, 0, 1);
const FEB = Date.UTC(2026, 1, 1);
const table = (bearer: 'customer' | 'operator'): FeeConfig => ({
  bearer,
  schedules: [
    { effectiveFromMs: JAN, bands },
    { effectiveFromMs: FEB, bands: [{ upToMinor: null, fixedMinor: 300, percentBp: 0 }] },
  ],
});

describe('fee quotes', () => {
  it('picks the band and the schedule in force', () => {
    assert.equal(feeFor(table('customer'), 45_000, JAN + 1), 500);
    assert.equal(feeFor(table('customer'), 45_001, JAN + 1), 2_650);
    assert.equal(feeFor(table('customer'), 200_001, JAN + 1), 2_001); // 1 % rounded up to a whole shilling
    assert.equal(feeFor(table('customer'), 50_000, FEB), 300);
    assert.equal(feeFor(table('customer'), 50_000, JAN - 1), 0);
  });

  it('shows amount, fee, what the payer pays and the credit, for each bearer', () => {
    assert.deepEqual(quoteFor(table('customer'), 50_000, JAN + 1), {
      amountMinor: 50_000,
      feeMinor: 2_650,
      payerPaysMinor: 52_650,
      creditMinor: 50_000,
      bearer: 'customer',
    });
    assert.deepEqual(quoteFor(table('operator'), 50_000, JAN + 1), {
      amountMinor: 50_000,
      feeMinor: 2_650,
      payerPaysMinor: 50_000,
      creditMinor: 50_000,
      bearer: 'operator',
    });
    assert.equal(creditFor(52_650, 2_650, 'customer'), 50_000);
    assert.equal(creditFor(50_000, 2_650, 'operator'), 50_000);
  });

  it('money and phone forms per docs/payments.md (rules 4 and 5)', () => {
    assert.equal(toMajor(50_000, 'UGX'), 50_000);
    assert.equal(toMajor(5050, 'EUR'), 50.5);
    assert.equal(toMinor('50.5', 'EUR'), 5050);
    assert.throws(() => toMinor(100.5, 'UGX'));
    for (const n of ['0772123456', '772123456', '256772123456', '+256 772 123456']) {
      assert.equal(mtnMsisdn(n), '256772123456');
      assert.equal(airtelMsisdn(n), '772123456');
    }
  });

  it('HTTP quote shows the energy from the caller hook', async (t) => {
    const db = new Database(':memory:');
    t.after(() => db.close());
    const mtn = new MtnAdapter({
      baseUrl: 'http://127.0.0.1:1',
      subscriptionKey: 'k',
      apiUserId: 'u',
      apiKey: 'a',
      targetEnvironment: 'sandbox',
      fees: table('customer'),
    });
    const processor = new PaymentProcessor({
      store: new IntentStore(db),
      providers: { mtn },
      cash: new CashBook(db, table('operator')),
      ledger: new RecordingLedger(),
      now: () => JAN + 1,
    });
    const api = await startPaymentApi(db, processor, (credit) => credit / 1000); // 1,000 UGX per kWh
    t.after(() => api.close());
    const res = await fetch(`${api.url}/api/payments/quote`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.tokens.viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'mtn', amountMinor: 40_000, currency: 'UGX' }),
    });
    const q = (await res.json()) as Record<string, unknown>;
    assert.deepEqual([q.amountMinor, q.feeMinor, q.payerPaysMinor, q.creditMinor, q.bearer], [40_000, 500, 40_500, 40_000, 'customer']);
    assert.equal(q.energyKwh, 40);
  });
});
