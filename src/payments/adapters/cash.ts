import type Database from 'better-sqlite3';
import { FeeQuoting, type FeeConfig } from '../fees.js';
import { assertMinor } from '../money.js';
import { ProviderRejected, type CallbackNotice, type PaymentProvider, type ProviderTransaction, type RequestResult, type StatusResult } from '../provider.js';

export class DuplicateReceipt extends Error {}

export interface CashEntry {
  readonly receipt: string;
  readonly agent: string;
  readonly account: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly atMs: number;
}

interface ReceiptRow {
  receipt: string;
  account: string;
  amount_minor: number;
  currency: string;
  at_ms: number;
}

/**
 * Cash recorded by an agent: no external API. The agents' receipt book is this "provider": its rows are what the
 * provider says, so the processor verifies and reconciles cash exactly like mobile money.
 */
export class CashBook extends FeeQuoting implements PaymentProvider {
  readonly name = 'cash' as const;
  readonly refIsOurReference = false;

  constructor(
    private readonly db: Database.Database,
    private readonly fees: FeeConfig,
  ) {
    super();
    db.exec(`CREATE TABLE IF NOT EXISTS payment_cash_receipts (
      receipt TEXT PRIMARY KEY,
      agent TEXT NOT NULL,
      account TEXT NOT NULL,
      amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
      currency TEXT NOT NULL,
      at_ms INTEGER NOT NULL
    )`);
  }

  protected get feeConfig(): FeeConfig {
    return this.fees;
  }

  /** One receipt number is one payment: a second use of the same number is refused. */
  record(e: CashEntry): void {
    assertMinor(e.amountMinor);
    if (!/^[A-Za-z0-9][A-Za-z0-9/_-]{2,39}$/.test(e.receipt))
      throw new ProviderRejected('INVALID_RECEIPT', `receipt number ${JSON.stringify(e.receipt)} is not valid`);
    try {
      this.db
        .prepare('INSERT INTO payment_cash_receipts (receipt, agent, account, amount_minor, currency, at_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(e.receipt, e.agent, e.account, e.amountMinor, e.currency, e.atMs);
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw new DuplicateReceipt(`receipt ${e.receipt} is already recorded`);
      throw err;
    }
  }

  requestPayment(): Promise<RequestResult> {
    return Promise.reject(new ProviderRejected('NOT_SUPPORTED', 'cash is recorded by an agent, not requested'));
  }

  verifyCallback(): CallbackNotice {
    throw new ProviderRejected('NOT_SUPPORTED', 'cash has no callbacks');
  }

  status(receipt: string): Promise<StatusResult> {
    const r = this.db.prepare('SELECT * FROM payment_cash_receipts WHERE receipt = ?').get(receipt) as ReceiptRow | undefined;
    if (!r) return Promise.resolve({ status: 'pending', amountMinor: null, currency: null, providerTxId: null, reason: 'no such receipt', known: false });
    return Promise.resolve({ status: 'successful', amountMinor: r.amount_minor, currency: r.currency, providerTxId: r.receipt, reason: null, known: true });
  }

  listTransactions(fromMs: number, toMs: number): Promise<ProviderTransaction[]> {
    const rows = this.db.prepare('SELECT * FROM payment_cash_receipts WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms').all(fromMs, toMs) as ReceiptRow[];
    return Promise.resolve(
      rows.map((r) => ({
        providerRef: r.receipt,
        reference: null,
        status: 'successful',
        amountMinor: r.amount_minor,
        currency: r.currency,
        providerTxId: r.receipt,
        atMs: r.at_ms,
      })),
    );
  }
}
