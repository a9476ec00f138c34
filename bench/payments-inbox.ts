/**
 * Payment callbacks against the size of the callback inbox (issue 8 §3): the time to take one callback
 * and to start one payment, with a nearly empty inbox and after a flood plus a year of real payments'
 * callbacks. The goal is a ratio near 1: the cost of a callback must not depend on how many others are
 * stored. BENCH_INBOX_PAYMENTS overrides the number of real payments (default 2,000, 10 callbacks each).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { NO_FEES, quoteFor } from '../src/payments/fees.js';
import { IntentStore } from '../src/payments/intent-store.js';
import { PaymentProcessor } from '../src/payments/processor.js';
import type { PaymentProvider } from '../src/payments/provider.js';
import { RecordingLedger } from '../src/payments/sandbox/harness.js';

/** A provider that answers at once, so only our own inbox work is timed. */
const instantMtn: PaymentProvider = {
  name: 'mtn',
  feeBearer: 'operator',
  refIsOurReference: true,
  quote: (amountMinor, _currency, atMs) => quoteFor(NO_FEES, amountMinor, atMs ?? 0),
  requestPayment: (req) => Promise.resolve({ providerRef: req.reference, status: 'pending' }),
  verifyCallback: (raw, _h, ctx) => {
    const b = JSON.parse(raw) as { status?: string; financialTransactionId?: string };
    if (typeof b.status !== 'string') throw new Error('MTN callback: status is missing');
    return {
      reference: ctx?.pathRef ?? null,
      providerRef: ctx?.pathRef ?? null,
      claimedStatus: null,
      claimedAmountMinor: null,
      providerTxId: b.financialTransactionId ?? null,
      signatureValid: null,
    };
  },
  status: () => Promise.resolve({ status: 'pending', amountMinor: null, currency: null, providerTxId: null, reason: null, known: true }),
  listTransactions: () => Promise.resolve(null),
};

const BODY = JSON.stringify({
  financialTransactionId: '1232581108',
  externalId: 'x',
  amount: '5',
  currency: 'EUR',
  payer: { partyIdType: 'MSISDN', partyId: '46733123999' },
  payerMessage: 'x'.repeat(300),
  payeeNote: '',
  status: 'SUCCESSFUL',
});

/** The median of per-batch means: other work on a shared machine inflates some batches, not the median. */
async function medianMs(batches: number, perBatch: number, once: () => Promise<unknown>): Promise<number> {
  const means: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < perBatch; i++) await once();
    means.push((performance.now() - t) / perBatch);
  }
  means.sort((a, b) => a - b);
  return means[Math.floor(means.length / 2)] ?? NaN;
}

async function timeCallbacks(p: PaymentProcessor, n: number): Promise<{ emptyMs: number; unknownMs: number; startMs: number }> {
  const emptyMs = await medianMs(10, n / 10, () => p.receiveCallback('mtn', '{}', {}, { pathRef: randomUUID() }));
  const unknownMs = await medianMs(10, n / 10, () => p.receiveCallback('mtn', BODY, {}, { pathRef: randomUUID() }));
  const startMs = await medianMs(10, n / 100, () =>
    p.start({ account: 'acc', provider: 'mtn', msisdn: '256772123456', amountMinor: 5000, currency: 'EUR', description: 'bench' }),
  );
  return { emptyMs, unknownMs, startMs };
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-inbox-'));
  try {
    const db = new Database(path.join(dir, 'pay.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const p = new PaymentProcessor({ store: new IntentStore(db), providers: { mtn: instantMtn }, ledger: new RecordingLedger() });
    const n = 1_000;
    const small = await timeCallbacks(p, n);
    const smallRows = p.store.inbox.counts().rows;

    // A year of real payments, each with provider retries, then a flood of 20,000 callbacks naming nothing.
    const payments = Number(process.env.BENCH_INBOX_PAYMENTS ?? 2_000);
    for (let i = 0; i < payments; i++) {
      const { intent } = await p.start({ account: 'acc', provider: 'mtn', msisdn: '256772123456', amountMinor: 5000, currency: 'EUR', description: 'bench' });
      for (let k = 0; k < 10; k++) await p.receiveCallback('mtn', BODY, {}, { pathRef: intent.id });
    }
    for (let i = 0; i < 20_000; i++) await p.receiveCallback('mtn', BODY, {}, { pathRef: randomUUID() });
    const large = await timeCallbacks(p, n);
    const c = p.store.inbox.counts();
    db.close();
    return {
      'small inbox: rows': smallRows,
      'large inbox: rows (of which naming no payment)': `${c.rows} (${c.unlinked})`,
      'callbacks offered to the large inbox': payments * 10 + 20_000 + 2 * n,
      '`{}` callback, small inbox: ms': round(small.emptyMs),
      '`{}` callback, large inbox: ms': round(large.emptyMs),
      '`{}` callback: large / small': round(large.emptyMs / small.emptyMs),
      'unknown-reference callback, small inbox: ms': round(small.unknownMs),
      'unknown-reference callback, large inbox: ms': round(large.unknownMs),
      'unknown-reference callback: large / small': round(large.unknownMs / small.unknownMs),
      'start a payment, small inbox: ms': round(small.startMs),
      'start a payment, large inbox: ms': round(large.startMs),
      'start a payment: large / small': round(large.startMs / small.startMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
