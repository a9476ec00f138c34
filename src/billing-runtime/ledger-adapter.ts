import { allocatePayment } from '../billing/postpaid.js';
import { getCustomer, type Customer } from '../billing/customers.js';
import { ACCOUNTS, type EntryLine, type Ledger } from '../billing/ledger.js';
import { minor } from '../billing/money.js';
import { creditFor } from '../payments/fees.js';
import type { LedgerPort, PaymentCredit } from '../payments/ledger-port.js';
import type { StoreDb } from '../store/database.js';

/** The ledger key of a payment: the payment id makes a re-delivered credit a no-op. */
export const paymentKey = (paymentId: string): string => `payment:${paymentId}`;

/**
 * A payment's `account` names a billing customer: either the customer id or its ledger account
 * (`customer:<id>`). Anything else is refused before money moves.
 */
export function customerOfAccount(db: StoreDb, account: string): Customer | undefined {
  const id = account.startsWith('customer:') ? account.slice('customer:'.length) : account;
  return getCustomer(db, id);
}

/**
 * The payments routes' account normaliser: `c2` and `customer:c2` are one account, stored as the
 * ledger account `customer:<id>`; an account of no customer of this site is undefined (refused).
 */
export function resolvePaymentAccount(db: StoreDb, site: string, account: string): { canonical: string; aliases: readonly string[] } | undefined {
  const c = customerOfAccount(db, account.trim());
  if (!c || c.site !== site) return undefined;
  return { canonical: ACCOUNTS.customer(c.id), aliases: [c.id] };
}

/**
 * payments' LedgerPort on the billing Ledger. Entries (debit positive):
 * - customer bears the fee: the provider remits gross - fee; cash:<provider> Dr, customer Cr, both gross - fee.
 * - operator bears the fee: the customer is credited gross; cash:<provider> Dr gross - fee, fees:<provider> Dr fee.
 * A postpaid payment is then allocated to the oldest open invoices (idempotent per payment).
 */
export class BillingLedgerPort implements LedgerPort {
  constructor(
    private readonly db: StoreDb,
    private readonly ledger: Ledger,
  ) {}

  creditPayment(p: PaymentCredit): void {
    const c = customerOfAccount(this.db, p.account);
    if (!c) throw new Error(`payment ${p.paymentId}: account ${p.account} is no customer of this site`);
    if (c.site !== this.ledger.site) throw new Error(`payment ${p.paymentId}: customer ${c.id} is in ${c.site}, not ${this.ledger.site}`);
    const credit = creditFor(p.grossMinor, p.feeMinor, p.bearer);
    const received = p.grossMinor - p.feeMinor;
    const cash = ACCOUNTS.cash(p.provider);
    const fees = ACCOUNTS.fees(p.provider);
    this.ledger.openAccount(cash, 'asset');
    const lines: EntryLine[] = [
      { account: cash, amountMinor: minor(received) },
      { account: ACCOUNTS.customer(c.id), amountMinor: minor(-credit) },
    ];
    const operatorFee = credit - received;
    if (operatorFee !== 0) {
      this.ledger.openAccount(fees, 'expense');
      lines.push({ account: fees, amountMinor: minor(operatorFee) });
    }
    const key = paymentKey(p.paymentId);
    this.ledger.post({ key, kind: 'payment', reference: `${p.provider} ${p.providerTxId}`, atMs: p.at, lines });
    if (c.mode === 'postpaid') allocatePayment(this.db, this.ledger, c.id, key);
  }
}
