import type { FeeBearer } from './fees.js';
import type { ProviderName } from './provider.js';

export interface PaymentCredit {
  /** Our intent id: the ledger must credit each paymentId at most once. */
  readonly paymentId: string;
  readonly account: string;
  /** The verified amount the provider collected. */
  readonly grossMinor: number;
  readonly feeMinor: number;
  /** customer: the account gets gross - fee; operator: the account gets gross and the fee is an operator cost (fees.ts creditFor). */
  readonly bearer: FeeBearer;
  readonly provider: ProviderName;
  readonly providerTxId: string;
  readonly at: number;
}

/**
 * Where verified payments become money on an account. The processor calls it BEFORE marking the intent
 * successful, so a crash in between re-delivers the same paymentId: the ledger must ignore the repeat.
 */
export interface LedgerPort {
  creditPayment(p: PaymentCredit): void;
}
