import type { Logger } from 'pino';
import type { Ledger } from '../billing/ledger.js';
import { paymentsConfigSchema, type SiteConfig } from '../config/site-config.js';
import { AirtelAdapter } from '../payments/adapters/airtel.js';
import { CashBook } from '../payments/adapters/cash.js';
import { MtnAdapter } from '../payments/adapters/mtn.js';
import { PesapalAdapter } from '../payments/adapters/pesapal.js';
import { creditFor, NO_FEES } from '../payments/fees.js';
import { IntentStore } from '../payments/intent-store.js';
import { PaymentProcessor } from '../payments/processor.js';
import type { PaymentProvider } from '../payments/provider.js';
import type { StoreDb } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import { customerOfAccount, BillingLedgerPort } from './ledger-adapter.js';
import type { PrepaidRuntime } from './prepaid-runtime.js';

export interface PaymentsRuntime {
  readonly processor: PaymentProcessor;
  /** Mobile money is configured: pending intents and callbacks are swept every `sweepEveryMs`. */
  readonly hasProviders: boolean;
  readonly sweepEveryMs: number;
}

export interface PaymentsRuntimeDeps {
  readonly db: StoreDb;
  readonly config: SiteConfig;
  readonly ledger: Ledger;
  readonly prepaid: PrepaidRuntime;
  readonly maxPaymentMinor: number;
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * Cash always, mobile money when configured; a credited payment becomes a prepaid credit event. What
 * was left open before a restart (inbox rows, pending intents) is recovered before it resolves.
 */
export async function createPaymentsRuntime(d: PaymentsRuntimeDeps): Promise<PaymentsRuntime> {
  const { db, ledger, log, clock } = d;
  const payments = paymentsConfigSchema.parse(d.config.payments ?? {});
  const providers: Partial<Record<'mtn' | 'airtel' | 'pesapal', PaymentProvider>> = {};
  if (payments.mtn) providers.mtn = new MtnAdapter(payments.mtn);
  if (payments.airtel) providers.airtel = new AirtelAdapter(payments.airtel);
  if (payments.pesapal) providers.pesapal = new PesapalAdapter(payments.pesapal);
  const processor = new PaymentProcessor({
    store: new IntentStore(db),
    providers,
    cash: new CashBook(db, payments.cash?.fees ?? NO_FEES),
    ledger: new BillingLedgerPort(db, ledger),
    now: clock,
    limits: { currency: ledger.currency, maxAmountMinor: d.maxPaymentMinor },
  });
  processor.onCredited((intent) => {
    try {
      const c = customerOfAccount(db, intent.account);
      if (!c) return;
      const credit = creditFor(intent.creditedGrossMinor ?? intent.amountMinor, intent.creditedFeeMinor ?? intent.feeMinor, intent.bearer);
      d.prepaid.afterPayment(c.id, credit, clock());
    } catch (e) {
      log.error({ err: e }, 'after a payment: the credit event failed');
    }
  });
  await processor.recover();
  return { processor, hasProviders: Object.keys(providers).length > 0, sweepEveryMs: payments.sweepEveryMs };
}
