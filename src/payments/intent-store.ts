import type Database from 'better-sqlite3';
import type { FeeBearer } from './fees.js';
import { InboxStore, type InboxRetention } from './inbox-store.js';
import type { PaymentStatus, ProviderName } from './provider.js';

export type { InboxRow } from './inbox-store.js';

export interface Intent {
  readonly id: string;
  readonly account: string;
  readonly provider: ProviderName;
  readonly msisdn: string | null;
  /** What the customer asked to pay for. */
  readonly amountMinor: number;
  readonly feeMinor: number;
  /** What the provider was asked to collect. */
  readonly payerPaysMinor: number;
  readonly bearer: FeeBearer;
  readonly currency: string;
  readonly providerRef: string | null;
  readonly state: PaymentStatus;
  readonly providerTxId: string | null;
  /** The verified gross that was credited, once successful. */
  readonly creditedGrossMinor: number | null;
  readonly creditedFeeMinor: number | null;
  readonly reason: string | null;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface Flag {
  readonly id: number;
  readonly intentId: string | null;
  readonly inboxId: number | null;
  readonly kind: string;
  readonly detail: string;
  readonly atMs: number;
}

interface IntentRow {
  id: string;
  account: string;
  provider: ProviderName;
  msisdn: string | null;
  amount_minor: number;
  fee_minor: number;
  payer_pays_minor: number;
  bearer: FeeBearer;
  currency: string;
  provider_ref: string | null;
  state: PaymentStatus;
  provider_tx_id: string | null;
  credited_gross_minor: number | null;
  credited_fee_minor: number | null;
  reason: string | null;
  created_ms: number;
  updated_ms: number;
}

const toIntent = (r: IntentRow): Intent => ({
  id: r.id,
  account: r.account,
  provider: r.provider,
  msisdn: r.msisdn,
  amountMinor: r.amount_minor,
  feeMinor: r.fee_minor,
  payerPaysMinor: r.payer_pays_minor,
  bearer: r.bearer,
  currency: r.currency,
  providerRef: r.provider_ref,
  state: r.state,
  providerTxId: r.provider_tx_id,
  creditedGrossMinor: r.credited_gross_minor,
  creditedFeeMinor: r.credited_fee_minor,
  reason: r.reason,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
});

/** Payment intents, the callback inbox and review flags, in the site database. */
export class IntentStore {
  /** The callback inbox (its own file: it is public input and has its own retention rule). */
  readonly inbox: InboxStore;

  constructor(
    readonly db: Database.Database,
    retention?: InboxRetention,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS payment_intents (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        provider TEXT NOT NULL,
        msisdn TEXT,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        fee_minor INTEGER NOT NULL CHECK (fee_minor >= 0),
        payer_pays_minor INTEGER NOT NULL CHECK (payer_pays_minor > 0),
        bearer TEXT NOT NULL CHECK (bearer IN ('customer', 'operator')),
        currency TEXT NOT NULL,
        provider_ref TEXT,
        state TEXT NOT NULL CHECK (state IN ('pending', 'successful', 'failed')),
        provider_tx_id TEXT,
        credited_gross_minor INTEGER,
        credited_fee_minor INTEGER,
        reason TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
      -- one provider transaction credits at most one intent (docs/payments.md#rules: deduplicate by provider transaction id)
      CREATE UNIQUE INDEX IF NOT EXISTS payment_intents_tx ON payment_intents (provider, provider_tx_id) WHERE provider_tx_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS payment_intents_ref ON payment_intents (provider, provider_ref);
      CREATE INDEX IF NOT EXISTS payment_intents_account ON payment_intents (account, created_ms);
      CREATE TABLE IF NOT EXISTS payment_flags (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id TEXT,
        inbox_id INTEGER,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        at_ms INTEGER NOT NULL
      );
    `);
    this.inbox = new InboxStore(db, retention);
  }

  insert(i: Omit<Intent, 'state' | 'providerTxId' | 'creditedGrossMinor' | 'creditedFeeMinor' | 'reason' | 'updatedMs'> & { providerTxId?: string }): void {
    this.db
      .prepare(
        `INSERT INTO payment_intents (id, account, provider, msisdn, amount_minor, fee_minor, payer_pays_minor, bearer, currency, provider_ref, state, provider_tx_id, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      )
      .run(
        i.id,
        i.account,
        i.provider,
        i.msisdn,
        i.amountMinor,
        i.feeMinor,
        i.payerPaysMinor,
        i.bearer,
        i.currency,
        i.providerRef,
        i.providerTxId ?? null,
        i.createdMs,
        i.createdMs,
      );
  }

  get(id: string): Intent | null {
    const r = this.db.prepare('SELECT * FROM payment_intents WHERE id = ?').get(id) as IntentRow | undefined;
    return r ? toIntent(r) : null;
  }

  byProviderRef(provider: ProviderName, ref: string): Intent | null {
    const r = this.db.prepare('SELECT * FROM payment_intents WHERE provider = ? AND provider_ref = ?').get(provider, ref) as IntentRow | undefined;
    return r ? toIntent(r) : null;
  }

  byTxId(provider: ProviderName, txId: string): Intent | null {
    const r = this.db.prepare('SELECT * FROM payment_intents WHERE provider = ? AND provider_tx_id = ?').get(provider, txId) as IntentRow | undefined;
    return r ? toIntent(r) : null;
  }

  setProviderRef(id: string, ref: string, atMs: number): void {
    this.db.prepare('UPDATE payment_intents SET provider_ref = ?, updated_ms = ? WHERE id = ? AND provider_ref IS NULL').run(ref, atMs, id);
  }

  /** pending|failed -> failed only; a successful intent never changes. */
  markFailed(id: string, reason: string, atMs: number): boolean {
    return (
      this.db.prepare("UPDATE payment_intents SET state = 'failed', reason = ?, updated_ms = ? WHERE id = ? AND state = 'pending'").run(reason, atMs, id)
        .changes === 1
    );
  }

  /** pending|failed -> successful, once: the WHERE clause is the state machine's guard. */
  markSuccessful(id: string, p: { providerTxId: string; grossMinor: number; feeMinor: number; atMs: number }): boolean {
    return (
      this.db
        .prepare(
          "UPDATE payment_intents SET state = 'successful', provider_tx_id = ?, credited_gross_minor = ?, credited_fee_minor = ?, reason = NULL, updated_ms = ? WHERE id = ? AND state != 'successful'",
        )
        .run(p.providerTxId, p.grossMinor, p.feeMinor, p.atMs, id).changes === 1
    );
  }

  pending(provider?: ProviderName): Intent[] {
    const rows = (
      provider
        ? this.db.prepare("SELECT * FROM payment_intents WHERE state = 'pending' AND provider = ? ORDER BY created_ms").all(provider)
        : this.db.prepare("SELECT * FROM payment_intents WHERE state = 'pending' ORDER BY created_ms").all()
    ) as IntentRow[];
    return rows.map(toIntent);
  }

  forAccount(account: string): Intent[] {
    return (this.db.prepare('SELECT * FROM payment_intents WHERE account = ? ORDER BY created_ms DESC').all(account) as IntentRow[]).map(toIntent);
  }

  /** Payments stored under any of several spellings of one account (e.g. `c2` and `customer:c2`), newest first. */
  forAccounts(accounts: readonly string[]): Intent[] {
    const names = [...new Set(accounts)];
    if (names.length === 0) return [];
    const marks = names.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT * FROM payment_intents WHERE account IN (${marks}) ORDER BY created_ms DESC, rowid DESC`).all(...names) as IntentRow[]).map(
      toIntent,
    );
  }

  inPeriod(fromMs: number, toMs: number, provider?: ProviderName): Intent[] {
    const rows = (
      provider
        ? this.db
            .prepare('SELECT * FROM payment_intents WHERE created_ms >= ? AND created_ms < ? AND provider = ? ORDER BY created_ms')
            .all(fromMs, toMs, provider)
        : this.db.prepare('SELECT * FROM payment_intents WHERE created_ms >= ? AND created_ms < ? ORDER BY created_ms').all(fromMs, toMs)
    ) as IntentRow[];
    return rows.map(toIntent);
  }

  inboxOutcome(id: number): { processedMs: number | null; outcome: string | null } {
    return this.inbox.outcome(id);
  }

  flag(f: Omit<Flag, 'id'>): void {
    this.db
      .prepare('INSERT INTO payment_flags (intent_id, inbox_id, kind, detail, at_ms) VALUES (?, ?, ?, ?, ?)')
      .run(f.intentId, f.inboxId, f.kind, f.detail, f.atMs);
  }

  flags(): Flag[] {
    const rows = this.db.prepare('SELECT * FROM payment_flags ORDER BY id').all() as Array<{
      id: number;
      intent_id: string | null;
      inbox_id: number | null;
      kind: string;
      detail: string;
      at_ms: number;
    }>;
    return rows.map((r) => ({ id: r.id, intentId: r.intent_id, inboxId: r.inbox_id, kind: r.kind, detail: r.detail, atMs: r.at_ms }));
  }
}
