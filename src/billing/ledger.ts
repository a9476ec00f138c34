import type Database from 'better-sqlite3';
import { ensureLedgerSchema } from './ledger-schema.js';
import { isCurrency, minor, negate, type Currency, type Minor } from './money.js';
import { prep } from './sql-cache.js';

export type AccountType = 'asset' | 'liability' | 'revenue' | 'expense' | 'equity';

/** Chart of accounts of a site. A customer's account is customer:<id>; see customers.ts for its type. */
export const ACCOUNTS = {
  revenueEnergy: 'revenue:energy',
  revenueFixed: 'revenue:fixed',
  revenueFees: 'revenue:fees',
  vatPayable: 'tax:vat-payable',
  customer: (id: string) => `customer:${id}`,
  cash: (provider: string) => `cash:${provider}`,
  fees: (provider: string) => `fees:${provider}`,
} as const;

export interface EntryLine {
  readonly account: string;
  /** Debit positive, credit negative. */
  readonly amountMinor: Minor;
}

export interface PostRequest {
  /** Unique per ledger: posting the same key again returns the first transaction and posts nothing. */
  readonly key: string;
  readonly kind: string;
  readonly reference: string;
  readonly atMs: number;
  readonly lines: readonly EntryLine[];
}

export interface Transaction {
  readonly id: number;
  readonly key: string;
  readonly kind: string;
  readonly reference: string;
  readonly atMs: number;
  readonly reverses: number | null;
  readonly lines: readonly EntryLine[];
}

export interface PostResult {
  readonly tx: Transaction;
  /** True when the key had been posted before and nothing new was posted. */
  readonly duplicate: boolean;
}

export interface StatementRow {
  readonly txId: number;
  readonly atMs: number;
  readonly kind: string;
  readonly reference: string;
  readonly amountMinor: Minor;
  readonly balanceMinor: Minor;
}

export interface Statement {
  readonly account: string;
  readonly openingMinor: Minor;
  readonly rows: readonly StatementRow[];
  readonly closingMinor: Minor;
}

/**
 * The largest amount of one ledger line, 10^13 minor units: far above any real payment or bill, and
 * small enough that hundreds of such lines still sum to a safe integer, so a balance, a statement or a
 * report cannot fail to read because of one absurd posting. (Payments and tariffs have tighter bounds.)
 */
export const MAX_LEDGER_LINE_MINOR = 1e13;

interface TxRow {
  id: number;
  idem_key: string;
  kind: string;
  reference: string;
  posted_ms: number;
  reverses: number | null;
}

/**
 * Double-entry ledger of one site in one currency, in the site's SQLite file. Balances are debit
 * positive: an asset (receivable, cash) is positive, a liability (prepaid credit) or revenue negative.
 * Times are unix ms; balance(atMs) counts entries posted before atMs (half-open, like the store).
 */
export class Ledger {
  readonly currency: Currency;

  constructor(
    readonly db: Database.Database,
    readonly site: string,
    currency: Currency,
  ) {
    ensureLedgerSchema(db);
    prep(db, 'INSERT OR IGNORE INTO billing_ledgers (site, currency) VALUES (?, ?)').run(site, currency);
    const stored = prep<[string], string>(db, 'SELECT currency FROM billing_ledgers WHERE site = ?').pluck().get(site) ?? '';
    if (stored !== currency || !isCurrency(stored)) throw new Error(`ledger of ${site} is in ${stored}, not ${currency}`);
    this.currency = currency;
  }

  /** Opens a site's ledger in the currency it was created with. */
  static open(db: Database.Database, site: string): Ledger | undefined {
    ensureLedgerSchema(db);
    const c = prep<[string], string>(db, 'SELECT currency FROM billing_ledgers WHERE site = ?').pluck().get(site);
    return c !== undefined && isCurrency(c) ? new Ledger(db, site, c) : undefined;
  }

  openAccount(code: string, type: AccountType): void {
    const had = this.accountType(code);
    if (had !== undefined && had !== type) throw new Error(`account ${code} is a ${had} account, not ${type}`);
    prep(this.db, 'INSERT OR IGNORE INTO billing_accounts (site, code, type) VALUES (?, ?, ?)').run(this.site, code, type);
  }

  accountType(code: string): AccountType | undefined {
    return prep<[string, string], AccountType>(this.db, 'SELECT type FROM billing_accounts WHERE site = ? AND code = ?').pluck().get(this.site, code);
  }

  /** Posts atomically, or returns the transaction already posted under the key. Refuses an unbalanced one. */
  post(req: PostRequest): PostResult {
    return this.db
      .transaction((): PostResult => {
        const prior = this.byKey(req.key);
        if (prior) return { tx: prior, duplicate: true };
        return { tx: this.insert(req, null), duplicate: false };
      })
      .immediate();
  }

  /** Posts the exact negation of a transaction. A transaction is reversed at most once; a reversal is not reversed. */
  reverse(txId: number, req: { key: string; reference: string; atMs: number }): PostResult {
    return this.db
      .transaction((): PostResult => {
        const prior = this.byKey(req.key);
        if (prior) return { tx: prior, duplicate: true };
        const orig = this.transaction(txId);
        if (!orig) throw new Error(`no transaction ${txId}`);
        if (orig.reverses !== null) throw new Error(`transaction ${txId} is itself a reversal`);
        const done = prep<[number], number>(this.db, 'SELECT id FROM billing_transactions WHERE reverses = ?').pluck().get(txId);
        if (done !== undefined) throw new Error(`transaction ${txId} was already reversed by ${done}`);
        const lines = orig.lines.map((l) => ({ account: l.account, amountMinor: negate(l.amountMinor) }));
        return { tx: this.insert({ key: req.key, kind: 'reversal', reference: req.reference, atMs: req.atMs, lines }, txId), duplicate: false };
      })
      .immediate();
  }

  transaction(id: number): Transaction | undefined {
    const row = prep<[number, string], TxRow>(this.db, 'SELECT * FROM billing_transactions WHERE id = ? AND site = ?').get(id, this.site);
    return row ? this.hydrate(row) : undefined;
  }

  byKey(key: string): Transaction | undefined {
    const row = prep<[string, string], TxRow>(this.db, 'SELECT * FROM billing_transactions WHERE site = ? AND idem_key = ?').get(this.site, key);
    return row ? this.hydrate(row) : undefined;
  }

  balance(account: string, atMs = Number.MAX_SAFE_INTEGER): Minor {
    const s = prep<[string, string, number], number>(
      this.db,
      'SELECT coalesce(sum(amount), 0) FROM billing_entries WHERE site = ? AND account = ? AND posted_ms < ?',
    )
      .pluck()
      .get(this.site, account, atMs);
    return minor(s ?? 0);
  }

  statement(account: string, fromMs: number, toMs: number): Statement {
    const opening = this.balance(account, fromMs);
    let running: number = opening;
    const rows = prep<[string, string, number, number], { tx_id: number; posted_ms: number; kind: string; reference: string; amount: number }>(
      this.db,
      `SELECT e.tx_id, e.posted_ms, t.kind, t.reference, sum(e.amount) AS amount FROM billing_entries e JOIN billing_transactions t ON t.id = e.tx_id
         WHERE e.site = ? AND e.account = ? AND e.posted_ms >= ? AND e.posted_ms < ? GROUP BY e.tx_id ORDER BY e.posted_ms, e.tx_id`,
    )
      .all(this.site, account, fromMs, toMs)
      .map((r) => {
        running += r.amount;
        return { txId: r.tx_id, atMs: r.posted_ms, kind: r.kind, reference: r.reference, amountMinor: minor(r.amount), balanceMinor: minor(running) };
      });
    return { account, openingMinor: opening, rows, closingMinor: minor(running) };
  }

  /** Balance of every account with entries; the balances always sum to zero. */
  trialBalance(atMs = Number.MAX_SAFE_INTEGER): { accounts: Record<string, Minor>; totalMinor: Minor } {
    const accounts: Record<string, Minor> = {};
    let total = 0;
    const rows = prep<[string, number], { account: string; s: number }>(
      this.db,
      'SELECT account, sum(amount) AS s FROM billing_entries WHERE site = ? AND posted_ms < ? GROUP BY account ORDER BY account',
    ).all(this.site, atMs);
    for (const r of rows) {
      accounts[r.account] = minor(r.s);
      total += r.s;
    }
    return { accounts, totalMinor: minor(total) };
  }

  private insert(req: PostRequest, reverses: number | null): Transaction {
    if (req.lines.length < 2) throw new Error('a transaction needs at least two lines');
    let sum = 0;
    for (const l of req.lines) {
      minor(l.amountMinor);
      if (this.accountType(l.account) === undefined) throw new Error(`unknown account ${l.account} in ${this.site}`);
      sum += l.amountMinor;
    }
    if (sum !== 0) throw new Error(`transaction ${req.key} does not balance: entries sum to ${sum}`);
    const big = req.lines.find((l) => Math.abs(l.amountMinor) > MAX_LEDGER_LINE_MINOR);
    if (big)
      throw new RangeError(
        `transaction ${req.key}: ${big.account} ${big.amountMinor} is beyond the ledger's bound of ±${MAX_LEDGER_LINE_MINOR} minor units per line`,
      );
    if (!Number.isSafeInteger(req.atMs)) throw new Error('atMs must be an integer time');
    const id = Number(
      prep(this.db, 'INSERT INTO billing_transactions (site, idem_key, kind, reference, posted_ms, reverses) VALUES (?, ?, ?, ?, ?, ?)').run(
        this.site,
        req.key,
        req.kind,
        req.reference,
        req.atMs,
        reverses,
      ).lastInsertRowid,
    );
    const ins = prep(this.db, 'INSERT INTO billing_entries (tx_id, site, account, amount, posted_ms) VALUES (?, ?, ?, ?, ?)');
    for (const l of req.lines) ins.run(id, this.site, l.account, l.amountMinor, req.atMs);
    return { id, key: req.key, kind: req.kind, reference: req.reference, atMs: req.atMs, reverses, lines: req.lines.map((l) => ({ ...l })) };
  }

  private hydrate(row: TxRow): Transaction {
    const lines = prep<[number], { account: string; amount: number }>(this.db, 'SELECT account, amount FROM billing_entries WHERE tx_id = ? ORDER BY rowid')
      .all(row.id)
      .map((e) => ({ account: e.account, amountMinor: minor(e.amount) }));
    return { id: row.id, key: row.idem_key, kind: row.kind, reference: row.reference, atMs: row.posted_ms, reverses: row.reverses, lines };
  }
}
