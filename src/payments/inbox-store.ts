import type Database from 'better-sqlite3';
import type { ProviderName } from './provider.js';

export interface InboxRow {
  readonly id: number;
  readonly provider: ProviderName;
  readonly receivedMs: number;
  readonly headers: string;
  readonly raw: string;
  readonly context: string;
  readonly attempts: number;
  /** The payment the callback names, once it was found; null = names no payment of ours (yet). */
  readonly intentId: string | null;
}

/**
 * How long callbacks are kept. Callback URLs are public, so anyone can add rows: rows that name no
 * payment of ours are few in normal operation (a callback racing our own commit) and are kept only
 * briefly and only up to a count; rows of real payments are evidence for disputes and are kept long,
 * but only so many per payment.
 */
export interface InboxRetention {
  /** Rows naming no payment, open or closed, kept at most; the oldest go first. */
  readonly maxUnlinked: number;
  /** A closed row naming no payment is deleted this long after it was closed. */
  readonly unlinkedKeepMs: number;
  /** A closed row of a real payment is deleted this long after it was closed. */
  readonly linkedKeepMs: number;
  /** Rows kept per payment; older closed ones go first (providers retry, forgers may repeat). */
  readonly maxPerPayment: number;
}

export const DEFAULT_INBOX_RETENTION: InboxRetention = {
  maxUnlinked: 1_000,
  unlinkedKeepMs: 24 * 3_600_000,
  linkedKeepMs: 365 * 24 * 3_600_000,
  maxPerPayment: 20,
};

/** Rows deleted per time-based retention pass, so one pass never holds the database for long. */
const PRUNE_BATCH = 500;

interface Row {
  id: number;
  provider: ProviderName;
  received_ms: number;
  headers: string;
  raw: string;
  context: string;
  attempts: number;
  intent_id: string | null;
}

const toRow = (r: Row): InboxRow => ({
  id: r.id,
  provider: r.provider,
  receivedMs: r.received_ms,
  headers: r.headers,
  raw: r.raw,
  context: r.context,
  attempts: r.attempts,
  intentId: r.intent_id,
});
const COLUMNS = 'id, provider, received_ms, headers, raw, context, attempts, intent_id';

/**
 * The callback inbox: every provider callback is written here raw before it is processed. Every
 * operation touches only the row(s) it is about, through an index, so its cost does not grow with
 * the inbox; `prune` keeps the inbox within `InboxRetention`.
 */
export class InboxStore {
  /** Compiled once: a callback runs several of these, and compiling costs more than running them. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly db: Database.Database,
    readonly retention: InboxRetention = DEFAULT_INBOX_RETENTION,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS payment_inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        headers TEXT NOT NULL,
        raw TEXT NOT NULL,
        context TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        processed_ms INTEGER,
        outcome TEXT
      );
      CREATE INDEX IF NOT EXISTS payment_inbox_open ON payment_inbox (processed_ms);
    `);
    this.migrate();
    db.exec(`
      -- our reference and the provider's, as the callback states them: start() finds early callbacks of its payment
      CREATE INDEX IF NOT EXISTS payment_inbox_ref ON payment_inbox (ref) WHERE processed_ms IS NULL AND ref IS NOT NULL;
      CREATE INDEX IF NOT EXISTS payment_inbox_provider_ref ON payment_inbox (provider, provider_ref) WHERE processed_ms IS NULL AND provider_ref IS NOT NULL;
      CREATE INDEX IF NOT EXISTS payment_inbox_unlinked ON payment_inbox (id) WHERE intent_id IS NULL;
      CREATE INDEX IF NOT EXISTS payment_inbox_intent ON payment_inbox (intent_id, id) WHERE intent_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS payment_flags_inbox ON payment_flags (inbox_id) WHERE inbox_id IS NOT NULL;
    `);
  }

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /** Inboxes written before retention existed get the columns that say which payment a row is about. */
  private migrate(): void {
    const have = new Set((this.db.prepare('PRAGMA table_info(payment_inbox)').all() as Array<{ name: string }>).map((c) => c.name));
    if (have.has('intent_id')) return;
    this.db.transaction(() => {
      this.db.exec(
        'ALTER TABLE payment_inbox ADD COLUMN ref TEXT; ALTER TABLE payment_inbox ADD COLUMN provider_ref TEXT; ALTER TABLE payment_inbox ADD COLUMN intent_id TEXT;',
      );
      // Once, so rows of real payments are not taken for junk by the retention rule: where each provider
      // puts our reference (docs/payments.md: MTN in our URL path, Airtel transaction.id, Pesapal
      // OrderMerchantReference). Rows it cannot attribute are treated as naming no payment.
      this.db.exec(`
        UPDATE payment_inbox SET intent_id = (
          SELECT i.id FROM payment_intents i WHERE i.id = CASE payment_inbox.provider
            WHEN 'mtn' THEN CASE WHEN json_valid(context) THEN json_extract(context, '$.pathRef') END
            WHEN 'airtel' THEN CASE WHEN json_valid(raw) THEN json_extract(raw, '$.transaction.id') END
            WHEN 'pesapal' THEN COALESCE(CASE WHEN json_valid(raw) AND json_type(raw) = 'object' THEN json_extract(raw, '$.OrderMerchantReference') END, CASE WHEN json_valid(context) THEN json_extract(context, '$.query.OrderMerchantReference') END)
          END)
      `);
    })();
  }

  add(provider: ProviderName, headers: string, raw: string, context: string, atMs: number): number {
    return Number(
      this.sql('INSERT INTO payment_inbox (provider, received_ms, headers, raw, context) VALUES (?, ?, ?, ?, ?)').run(provider, atMs, headers, raw, context)
        .lastInsertRowid,
    );
  }

  get(id: number): InboxRow | null {
    const r = this.sql(`SELECT ${COLUMNS} FROM payment_inbox WHERE id = ?`).get(id) as Row | undefined;
    return r ? toRow(r) : null;
  }

  /** Open rows after `afterId`, at most `limit`: the periodic pass reads the inbox a page at a time. */
  openPage(afterId: number, limit: number): InboxRow[] {
    return (this.sql(`SELECT ${COLUMNS} FROM payment_inbox WHERE processed_ms IS NULL AND id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as Row[]).map(toRow);
  }

  /** Open rows that name this payment by our reference or the provider's. */
  openFor(provider: ProviderName, reference: string, providerRef: string | null): InboxRow[] {
    const rows = this.sql(
      `SELECT ${COLUMNS} FROM payment_inbox WHERE processed_ms IS NULL AND ref = ?
       UNION SELECT ${COLUMNS} FROM payment_inbox WHERE processed_ms IS NULL AND provider = ? AND provider_ref = ?
       ORDER BY id`,
    ).all(reference, provider, providerRef) as Row[];
    return rows.map(toRow);
  }

  /** The row is about this payment: it is kept as evidence, up to `maxPerPayment` rows per payment. */
  link(id: number, intentId: string): void {
    this.sql('UPDATE payment_inbox SET intent_id = ? WHERE id = ?').run(intentId, id);
    this.sql(
      `DELETE FROM payment_inbox WHERE intent_id = ? AND processed_ms IS NOT NULL
         AND id <= (SELECT id FROM payment_inbox WHERE intent_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    ).run(intentId, intentId, this.retention.maxPerPayment);
  }

  close(id: number, outcome: string, atMs: number): void {
    this.sql('UPDATE payment_inbox SET processed_ms = ?, outcome = ?, attempts = attempts + 1 WHERE id = ?').run(atMs, outcome, id);
  }

  /** The row stays open; `refs`, what the parsed callback says it is about, let start() find it by index. */
  retry(id: number, outcome: string, refs?: { readonly reference: string | null; readonly providerRef: string | null }): void {
    this.sql(
      'UPDATE payment_inbox SET outcome = ?, attempts = attempts + 1, ref = COALESCE(?, ref), provider_ref = COALESCE(?, provider_ref) WHERE id = ?',
    ).run(outcome, refs?.reference ?? null, refs?.providerRef ?? null, id);
  }

  outcome(id: number): { processedMs: number | null; outcome: string | null } {
    const r = this.sql('SELECT processed_ms, outcome FROM payment_inbox WHERE id = ?').get(id) as
      { processed_ms: number | null; outcome: string | null } | undefined;
    return { processedMs: r?.processed_ms ?? null, outcome: r?.outcome ?? null };
  }

  /**
   * Keeps rows naming no payment within `maxUnlinked`. Cheap enough for every callback: it walks at most
   * `maxUnlinked` entries of a partial index, however large the rest of the inbox is, and when over the
   * bound deletes a slice at once, so the delete runs once per slice rather than once per callback.
   */
  capUnlinked(): number {
    const nth = this.sql('SELECT id FROM payment_inbox WHERE intent_id IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?').pluck();
    if (nth.get(this.retention.maxUnlinked) === undefined) return 0;
    const keep = this.retention.maxUnlinked - Math.floor(this.retention.maxUnlinked / 16);
    const cut = nth.get(keep) as number;
    return this.deleteUnlinked('id <= ?', cut);
  }

  /** The time rule, a bounded batch per call (the periodic pass calls it until it returns 0). */
  expire(nowMs: number): number {
    let n = this.deleteUnlinked(
      `processed_ms IS NOT NULL AND processed_ms < ? AND id IN (SELECT id FROM payment_inbox WHERE intent_id IS NULL AND processed_ms IS NOT NULL AND processed_ms < ? LIMIT ${PRUNE_BATCH})`,
      nowMs - this.retention.unlinkedKeepMs,
      nowMs - this.retention.unlinkedKeepMs,
    );
    const linkedCut = nowMs - this.retention.linkedKeepMs;
    n += this.sql(
      `DELETE FROM payment_inbox WHERE id IN (SELECT id FROM payment_inbox WHERE processed_ms IS NOT NULL AND processed_ms < ? AND intent_id IS NOT NULL LIMIT ${PRUNE_BATCH})`,
    ).run(linkedCut).changes;
    return n;
  }

  /**
   * Deletes rows naming no payment, and the review flags raised about them unless a flag names a real
   * payment (e.g. a forged callback for one): a flag about junk lives as long as the junk.
   */
  private deleteUnlinked(where: string, ...args: number[]): number {
    return this.db.transaction(() => {
      this.sql(
        `DELETE FROM payment_flags WHERE inbox_id IN (SELECT id FROM payment_inbox WHERE intent_id IS NULL AND ${where})
           AND (intent_id IS NULL OR NOT EXISTS (SELECT 1 FROM payment_intents i WHERE i.id = payment_flags.intent_id))`,
      ).run(...args);
      return this.sql(`DELETE FROM payment_inbox WHERE intent_id IS NULL AND ${where}`).run(...args).changes;
    })();
  }

  /** Row counts, for tests, benches and the operator. */
  counts(): { rows: number; open: number; unlinked: number } {
    return this.sql(
      'SELECT COUNT(*) AS rows, COUNT(*) FILTER (WHERE processed_ms IS NULL) AS open, COUNT(*) FILTER (WHERE intent_id IS NULL) AS unlinked FROM payment_inbox',
    ).get() as { rows: number; open: number; unlinked: number };
  }
}
