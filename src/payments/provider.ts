import type { FeeBearer, Quote } from './fees.js';

export type ProviderName = 'mtn' | 'airtel' | 'pesapal' | 'cash';
export type PaymentStatus = 'pending' | 'successful' | 'failed';

export interface PaymentRequest {
  /** Our attempt id, saved before the HTTP call; the provider's idempotency key (docs/payments.md#rules). */
  readonly reference: string;
  readonly msisdn: string;
  /** What the payer's wallet is charged (the quote's payerPaysMinor). */
  readonly amountMinor: number;
  readonly currency: string;
  readonly description: string;
}

export interface RequestResult {
  readonly providerRef: string;
  readonly status: 'pending';
  /** Pesapal: where the payer completes the payment. */
  readonly redirectUrl?: string;
}

/** What a callback claims. Untrusted: only ever a prompt to re-query status (docs/payments.md#rules). */
export interface CallbackNotice {
  /** Our reference, when the provider echoes it or it is in our callback URL. */
  readonly reference: string | null;
  readonly providerRef: string | null;
  readonly claimedStatus: PaymentStatus | null;
  readonly claimedAmountMinor: number | null;
  readonly providerTxId: string | null;
  /** true = signature checked and good; false = present and bad or required and missing; null = provider signs nothing. */
  readonly signatureValid: boolean | null;
}

/** The authoritative answer of a status re-query. */
export interface StatusResult {
  readonly status: PaymentStatus;
  /** null when the provider's status call carries no amount (Airtel transaction enquiry). */
  readonly amountMinor: number | null;
  readonly currency: string | null;
  readonly providerTxId: string | null;
  readonly reason: string | null;
  /** false when the provider does not know the reference at all (MTN 404). */
  readonly known: boolean;
}

export interface ProviderTransaction {
  readonly providerRef: string;
  readonly reference: string | null;
  readonly status: PaymentStatus;
  readonly amountMinor: number;
  readonly currency: string;
  readonly providerTxId: string | null;
  readonly atMs: number;
}

export interface CallbackContext {
  /** Our reference taken from the callback URL path (MTN sends none in the body: MTN callback page). */
  readonly pathRef?: string;
  /** Query parameters (Pesapal GET IPN). */
  readonly query?: Readonly<Record<string, string>>;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  readonly feeBearer: FeeBearer;
  /** true when the provider's id for a request is our reference (MTN X-Reference-Id, Airtel transaction.id), so status can be re-queried even if the request call timed out. */
  readonly refIsOurReference: boolean;
  quote(amountMinor: number, currency: string, atMs?: number): Quote;
  requestPayment(req: PaymentRequest): Promise<RequestResult>;
  verifyCallback(rawBody: string, headers: Readonly<Record<string, string | string[] | undefined>>, ctx?: CallbackContext): CallbackNotice;
  status(providerRef: string): Promise<StatusResult>;
  /** null when the provider's API has no listing (MTN, Airtel, Pesapal): reconciliation then re-queries each intent. */
  listTransactions(fromMs: number, toMs: number): Promise<ProviderTransaction[] | null>;
}

/** A definitive refusal at request time (4xx, magic failure numbers): the intent fails without money moving. */
export class ProviderRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Energy the caller computes from the tariff; payments only carries the hook. */
/** The energy a credit buys for an account at its tariff now; null when the account or tariff is unknown. */
export type EnergyFor = (creditMinor: number, account?: string) => number | null;
