import { randomUUID } from 'node:crypto';
import { DuplicateReceipt, type CashBook } from './adapters/cash.js';
import { IntentStore, type InboxRow, type Intent } from './intent-store.js';
import type { LedgerPort } from './ledger-port.js';
import type { Quote } from './fees.js';
import { assertMinor } from './money.js';
import { ProviderRejected, type CallbackContext, type CallbackNotice, type PaymentProvider, type ProviderName, type StatusResult } from './provider.js';
import { systemClock, type Clock } from '../util/clock.js';

export interface ProcessorDeps {
  readonly store: IntentStore;
  readonly providers: Partial<Record<Exclude<ProviderName, 'cash'>, PaymentProvider>>;
  readonly cash?: CashBook;
  readonly ledger: LedgerPort;
  readonly now?: () => number;
  /** Gap between status calls while sweeping; MTN caps status polling at 10 per second (MTN best practices). */
  readonly sweepGapMs?: number;
  /** How long an intent the provider does not know stays pending before it is failed (default 1 h). */
  readonly unknownFailAfterMs?: number;
  /** A callback naming no payment of ours is retried this many times, then closed and flagged (default 100). */
  readonly maxInboxAttempts?: number;
  /**
   * ...or until it is this old (default 10 min). Our intent is written before the provider is called, so a
   * genuine callback finds it at once; one naming no payment for this long is junk or a forgery.
   */
  readonly orphanAfterMs?: number;
  /** Inbox rows read per page by the periodic pass, so memory does not grow with the inbox (default 100). */
  readonly inboxPageSize?: number;
  /** The site's currency and largest payment; without them any currency and safe amount are taken. */
  readonly limits?: PaymentLimits;
}

export interface PaymentLimits {
  readonly currency: string;
  readonly maxAmountMinor: number;
}

/** A payment refused before anything was stored or sent (wrong currency, amount over the site's maximum). */
export class PaymentRefused extends Error {
  override readonly name = 'PaymentRefused';
}

export interface StartPayment {
  readonly account: string;
  readonly provider: Exclude<ProviderName, 'cash'>;
  readonly msisdn: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly description: string;
  /** A client idempotency key; a retry with the same key returns the same intent. */
  readonly reference?: string;
}

export interface CashPayment {
  readonly account: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly receipt: string;
  readonly agent: string;
}

export type Headers = Readonly<Record<string, string | string[] | undefined>>;
export { DuplicateReceipt };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Turns provider events into credits. Money moves only on an authoritative status re-query (docs/payments.md#rules),
 * once per intent (the state machine and the unique provider transaction id), and callbacks are stored
 * raw before they are processed so a crash loses nothing.
 */
export class PaymentProcessor {
  private readonly listeners = new Set<(i: Intent) => void>();
  private readonly now: () => number;

  constructor(private readonly deps: ProcessorDeps) {
    this.now = deps.now ?? systemClock;
  }

  get store(): IntentStore {
    return this.deps.store;
  }

  /** The processor's clock, for the callback routes' rate limit. */
  get clock(): Clock {
    return this.now;
  }

  /** Whether callbacks of this provider can be handled here (an unconfigured one is answered 404). */
  configured(name: ProviderName): boolean {
    return (name === 'cash' ? this.deps.cash : this.deps.providers[name]) !== undefined;
  }

  /** For notifications and automatic reconnection. */
  onCredited(listener: (i: Intent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  provider(name: ProviderName): PaymentProvider {
    const p = name === 'cash' ? this.deps.cash : this.deps.providers[name];
    if (!p) throw new ProviderRejected('NO_PROVIDER', `provider ${name} is not configured`);
    return p;
  }

  /** The quote shown before paying, at the processor's clock (fee schedules are effective-dated). */
  quote(name: ProviderName, amountMinor: number, currency: string): Quote {
    this.admit(amountMinor, currency);
    return this.provider(name).quote(amountMinor, currency, this.now());
  }

  /** docs/payments.md#rules: the attempt id is saved before the HTTP call; a timeout or 5xx leaves it pending for the sweeper. */
  async start(req: StartPayment): Promise<{ intent: Intent; redirectUrl?: string }> {
    this.admit(req.amountMinor, req.currency);
    const p = this.provider(req.provider);
    const id = req.reference ?? randomUUID();
    const existing = this.store.get(id);
    if (existing) {
      if (existing.account !== req.account || existing.amountMinor !== req.amountMinor || existing.provider !== req.provider)
        throw new ProviderRejected('REFERENCE_REUSED', `reference ${id} belongs to another payment`);
      return { intent: existing };
    }
    const q = p.quote(req.amountMinor, req.currency, this.now());
    this.store.insert({
      id,
      account: req.account,
      provider: req.provider,
      msisdn: req.msisdn,
      amountMinor: q.amountMinor,
      feeMinor: q.feeMinor,
      payerPaysMinor: q.payerPaysMinor,
      bearer: q.bearer,
      currency: req.currency,
      providerRef: p.refIsOurReference ? id : null,
      createdMs: this.now(),
    });
    let redirectUrl: string | undefined;
    try {
      const r = await p.requestPayment({
        reference: id,
        msisdn: req.msisdn,
        amountMinor: q.payerPaysMinor,
        currency: req.currency,
        description: req.description,
      });
      this.store.setProviderRef(id, r.providerRef, this.now());
      redirectUrl = r.redirectUrl;
    } catch (err) {
      if (err instanceof ProviderRejected) this.store.markFailed(id, `${err.code}: ${err.message}`, this.now());
      // anything else (timeout, 5xx): unknown outcome, the sweeper re-queries status with the same id (docs/payments.md#rules)
    }
    await this.processInboxOf(id); // callbacks that arrived before our row was usable
    const intent = this.store.get(id);
    if (!intent) throw new Error('intent vanished');
    return redirectUrl === undefined ? { intent } : { intent, redirectUrl };
  }

  /** An agent's cash: the receipt and the intent are written together, so a duplicate receipt leaves nothing behind. */
  async recordCash(c: CashPayment): Promise<Intent> {
    const cash = this.deps.cash;
    if (!cash) throw new ProviderRejected('NO_PROVIDER', 'cash is not configured');
    this.admit(c.amountMinor, c.currency);
    const q = cash.quote(c.amountMinor, c.currency, this.now());
    const id = randomUUID();
    const at = this.now();
    this.store.db.transaction(() => {
      cash.record({ receipt: c.receipt, agent: c.agent, account: c.account, amountMinor: q.payerPaysMinor, currency: c.currency, atMs: at });
      this.store.insert({
        id,
        account: c.account,
        provider: 'cash',
        msisdn: null,
        amountMinor: q.amountMinor,
        feeMinor: q.feeMinor,
        payerPaysMinor: q.payerPaysMinor,
        bearer: q.bearer,
        currency: c.currency,
        providerRef: c.receipt,
        createdMs: at,
      });
    })();
    await this.verifyIntent(id);
    const intent = this.store.get(id);
    if (!intent) throw new Error('intent vanished');
    return intent;
  }

  /** Amount and currency checks at payment creation: a payment is in the account's currency and within the site's maximum. */
  private admit(amountMinor: number, currency: string): void {
    assertMinor(amountMinor);
    const l = this.deps.limits;
    if (!l) return;
    if (currency !== l.currency)
      throw new PaymentRefused(`currency: found ${JSON.stringify(currency)}; this site's accounts are in ${l.currency}, so a payment must be in ${l.currency}`);
    if (amountMinor > l.maxAmountMinor)
      throw new PaymentRefused(
        `amountMinor: found ${amountMinor}; a payment on this site may be at most ${l.maxAmountMinor} minor units of ${l.currency} (billing.maxPaymentMinor)`,
      );
  }

  /** Stores the raw callback first (the only step before a crash can hurt), then processes it. */
  async receiveCallback(
    provider: Exclude<ProviderName, 'cash'>,
    rawBody: string,
    headers: Headers,
    ctx: CallbackContext = {},
  ): Promise<{ inboxId: number; outcome: string; notice: CallbackNotice | null }> {
    const inboxId = this.storeCallback(provider, rawBody, headers, ctx);
    // Only this row is read: the cost of a callback does not depend on how many others are waiting.
    const row = this.store.inbox.get(inboxId);
    if (!row) return { inboxId, outcome: this.store.inboxOutcome(inboxId).outcome ?? 'done', notice: null };
    try {
      return { inboxId, ...(await this.processRow(row)) };
    } finally {
      this.store.inbox.capUnlinked();
    }
  }

  storeCallback(provider: Exclude<ProviderName, 'cash'>, rawBody: string, headers: Headers, ctx: CallbackContext = {}): number {
    return this.store.inbox.add(provider, JSON.stringify(headers), rawBody, JSON.stringify(ctx), this.now());
  }

  /** On start and periodically: unprocessed callbacks first, then every pending intent is re-queried. */
  async recover(): Promise<void> {
    await this.processInbox();
    await this.sweep();
  }

  /** Every open row, a page at a time, then the retention rule (docs/payments.md#rules: callbacks may also be late). */
  async processInbox(): Promise<void> {
    const size = this.deps.inboxPageSize ?? 100;
    for (let after = 0, page = this.store.inbox.openPage(after, size); page.length > 0; page = this.store.inbox.openPage(after, size)) {
      for (const row of page) await this.processSafely(row);
      after = page[page.length - 1]?.id ?? after;
    }
    this.store.inbox.capUnlinked();
    while (this.store.inbox.expire(this.now()) > 0);
  }

  /** The open rows that name one payment, found by index (start() runs this for its own payment only). */
  async processInboxOf(intentId: string): Promise<void> {
    const intent = this.store.get(intentId);
    if (!intent) return;
    for (const row of this.store.inbox.openFor(intent.provider, intent.id, intent.providerRef)) await this.processSafely(row);
  }

  private async processSafely(row: InboxRow): Promise<void> {
    try {
      await this.processRow(row);
    } catch (err) {
      // e.g. the ledger is unavailable: the row stays open and is retried; nothing was marked
      this.store.inbox.retry(row.id, `error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** docs/payments.md#rules: a sweeper for non-terminal rows, because callbacks may never arrive. */
  async sweep(): Promise<void> {
    for (const intent of this.store.pending()) {
      if (!intent.providerRef) continue;
      try {
        await this.verifyIntent(intent.id);
      } catch {
        // provider unreachable: the next sweep tries again
      }
      if (intent.provider === 'mtn' && (this.deps.sweepGapMs ?? 100) > 0) await sleep(this.deps.sweepGapMs ?? 100);
    }
  }

  /** Re-queries one intent and applies the authoritative answer. */
  async verifyIntent(id: string): Promise<string> {
    const intent = this.store.get(id);
    if (!intent?.providerRef) return 'no_provider_ref';
    if (intent.state === 'successful') return 'already_successful';
    const st = await this.provider(intent.provider).status(intent.providerRef);
    return this.apply(intent.id, st, null);
  }

  private async processRow(row: InboxRow): Promise<{ outcome: string; notice: CallbackNotice | null }> {
    const p = this.provider(row.provider);
    let notice: CallbackNotice;
    try {
      notice = p.verifyCallback(row.raw, JSON.parse(row.headers) as Headers, JSON.parse(row.context) as CallbackContext);
    } catch (err) {
      this.flag(null, row.id, 'unparseable_callback', err instanceof Error ? err.message : String(err));
      return this.close(row, 'rejected_unparseable', null);
    }
    let intent = notice.reference ? this.store.get(notice.reference) : null;
    if (!intent && notice.providerRef) intent = this.store.byProviderRef(row.provider, notice.providerRef);
    // A row about a real payment is evidence and is kept; one naming none falls under the short retention.
    if (intent) this.store.inbox.link(row.id, intent.id);
    if (notice.signatureValid === false) {
      this.flag(notice.reference, row.id, 'bad_signature', `${row.provider} callback signature did not verify; nothing credited`);
      return this.close(row, 'rejected_signature', notice);
    }
    if (intent && intent.provider !== row.provider) {
      this.flag(intent.id, row.id, 'wrong_provider', `${row.provider} callback names a ${intent.provider} payment`);
      return this.close(row, 'rejected_wrong_provider', notice);
    }
    if (!intent) {
      const ageMs = this.now() - row.receivedMs;
      if (row.attempts >= (this.deps.maxInboxAttempts ?? 100) || ageMs >= (this.deps.orphanAfterMs ?? 600_000)) {
        this.flag(
          notice.reference,
          row.id,
          'orphan_callback',
          `no payment ${notice.reference ?? notice.providerRef} after ${row.attempts} attempts and ${Math.round(ageMs / 1000)} s`,
        );
        return this.close(row, 'abandoned_no_intent', notice);
      }
      // The callback can beat our own commit: keep it open, start() and recover() process it again.
      this.store.inbox.retry(row.id, 'waiting_for_intent', notice);
      return { outcome: 'waiting_for_intent', notice };
    }
    if (intent.state === 'successful') return this.close(row, 'already_successful', notice);
    if (!intent.providerRef) {
      this.store.inbox.retry(row.id, 'waiting_for_provider_ref', notice);
      return { outcome: 'waiting_for_provider_ref', notice };
    }
    let st: StatusResult;
    try {
      st = await p.status(intent.providerRef);
    } catch (err) {
      this.store.inbox.retry(row.id, `status_error: ${err instanceof Error ? err.message : String(err)}`, notice);
      return { outcome: 'status_error', notice };
    }
    if (notice.claimedAmountMinor !== null && st.amountMinor !== null && notice.claimedAmountMinor !== st.amountMinor)
      this.flag(
        intent.id,
        row.id,
        'callback_amount_disagrees',
        `callback claims ${notice.claimedAmountMinor}, provider status says ${st.amountMinor}; only the verified amount counts`,
      );
    if (notice.claimedStatus === 'successful' && st.status !== 'successful')
      this.flag(intent.id, row.id, 'callback_status_disagrees', `callback claims successful, provider status says ${st.status}`);
    const outcome = this.apply(intent.id, st, row.id);
    // A pending status leaves the callback open only if it told us nothing final; the sweeper covers the rest.
    return this.close(row, outcome, notice);
  }

  /** Applies an authoritative status. Synchronous from the state check to the mark, so callbacks cannot interleave. */
  private apply(intentId: string, st: StatusResult, inboxId: number | null): string {
    const intent = this.store.get(intentId);
    if (!intent) return 'no_intent';
    if (intent.state === 'successful') return 'already_successful';
    if (!st.known) {
      // A request that never reached the provider: after a while it is failed (a later success still credits, see below).
      if (
        this.now() - intent.createdMs > (this.deps.unknownFailAfterMs ?? 3_600_000) &&
        this.store.markFailed(intent.id, st.reason ?? 'not known at provider', this.now())
      )
        return 'failed_unknown';
      return 'unknown_at_provider';
    }
    if (st.status === 'pending') return 'still_pending';
    if (st.status === 'failed') return this.store.markFailed(intent.id, st.reason ?? 'failed', this.now()) ? 'failed' : 'already_failed';
    if (st.currency !== null && st.currency !== intent.currency) {
      this.flag(intent.id, inboxId, 'currency_mismatch', `provider says ${st.currency}, we asked ${intent.currency}; held for review`);
      return 'held_currency_mismatch';
    }
    // Airtel's status carries no amount (Airtel transaction enquiry): the amount we asked for is what it collects.
    const gross = st.amountMinor ?? intent.payerPaysMinor;
    let fee = intent.feeMinor;
    if (gross !== intent.payerPaysMinor) {
      this.flag(intent.id, inboxId, 'amount_mismatch', `provider collected ${gross}, we asked ${intent.payerPaysMinor}; credited the verified amount`);
      fee = intent.bearer === 'operator' ? this.provider(intent.provider).quote(gross, intent.currency, this.now()).feeMinor : Math.min(intent.feeMinor, gross);
    }
    const txId = st.providerTxId ?? `${intent.provider}:${intent.providerRef ?? intent.id}`;
    const other = this.store.byTxId(intent.provider, txId);
    if (other && other.id !== intent.id) {
      this.flag(intent.id, inboxId, 'duplicate_provider_tx', `provider transaction ${txId} already credited payment ${other.id}`);
      return 'rejected_duplicate_tx';
    }
    const at = this.now();
    // Ledger first: it is idempotent by paymentId, so a crash before the mark below re-credits nothing.
    this.deps.ledger.creditPayment({
      paymentId: intent.id,
      account: intent.account,
      grossMinor: gross,
      feeMinor: fee,
      bearer: intent.bearer,
      provider: intent.provider,
      providerTxId: txId,
      at,
    });
    this.store.markSuccessful(intent.id, { providerTxId: txId, grossMinor: gross, feeMinor: fee, atMs: at });
    if (intent.state === 'failed') this.flag(intent.id, inboxId, 'late_success', 'provider reports success after we had marked it failed; credited');
    const done = this.store.get(intent.id);
    if (done) for (const l of this.listeners) l(done);
    return 'credited';
  }

  private close(row: InboxRow, outcome: string, notice: CallbackNotice | null): { outcome: string; notice: CallbackNotice | null } {
    this.store.inbox.close(row.id, outcome, this.now());
    return { outcome, notice };
  }

  private flag(intentId: string | null, inboxId: number | null, kind: string, detail: string): void {
    this.store.flag({ intentId, inboxId, kind, detail, atMs: this.now() });
  }
}
