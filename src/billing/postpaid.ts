import type { StoreDb } from '../store/database.js';
import { LocalCalendar } from './calendar.js';
import { ensureBillingSchema } from './billing-schema.js';
import { chargeEntries } from './bill-posting.js';
import { assignmentsOf, consumptionOf, getCustomer } from './customers.js';
import { ACCOUNTS, type Ledger } from './ledger.js';
import { minor, type Minor } from './money.js';
import { rate, type Bill } from './rating.js';
import { loadTariff } from './tariff-store.js';
import { prep } from './sql-cache.js';

export interface Invoice {
  readonly id: number;
  readonly customerId: string;
  readonly month: string;
  readonly bill: Bill;
  readonly totalMinor: Minor;
  readonly txId: number;
  readonly issuedMs: number;
}

interface InvoiceRow {
  id: number;
  customer_id: string;
  month: string;
  total: number;
  tx_id: number;
  issued_ms: number;
  bill_json: string;
}
const fromRow = (r: InvoiceRow): Invoice => ({
  id: r.id,
  customerId: r.customer_id,
  month: r.month,
  bill: JSON.parse(r.bill_json) as Bill,
  totalMinor: minor(r.total),
  txId: r.tx_id,
  issuedMs: r.issued_ms,
});

/**
 * Invoices a postpaid customer for a local calendar month: rates the month's consumption (all meters
 * within their assignments; fixed charge and fees prorated to the days with a meter) and posts receivable against revenue
 * and tax in one transaction with the invoice row. Invoicing the same month again returns the first invoice.
 */
export function invoiceMonth(db: StoreDb, ledger: Ledger, customerId: string, month: string, timeZone: string, issuedMs: number): Invoice {
  ensureBillingSchema(db);
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error(`expected a month as YYYY-MM, got "${month}"`);
  const c = getCustomer(db, customerId);
  if (!c) throw new Error(`unknown customer ${customerId}`);
  if (c.mode !== 'postpaid') throw new Error(`customer ${customerId} is prepaid`);
  const prior = invoiceOf(db, customerId, month);
  if (prior) return prior;
  const tariff = loadTariff(db, c.tariffId);
  if (!tariff) throw new Error(`unknown tariff ${c.tariffId}`);
  const [fromMs, toMs] = LocalCalendar.for(timeZone).monthRange(month);
  if (issuedMs < toMs) throw new Error(`${month} is not over yet`);
  // Fixed charge and fees only for the days the customer had a meter (any part of the local day).
  const service = assignmentsOf(db, customerId).map((a) => ({ fromMs: a.fromMs, toMs: a.toMs }));
  const bill = rate(consumptionOf(db, customerId, fromMs, toMs), tariff, { fromMs, toMs }, timeZone, { service });
  if (bill.lines.length === 0) throw new Error(`customer ${customerId} had no meter and used no energy in ${month}: there is nothing to invoice`);
  return db
    .transaction((): Invoice => {
      const { tx } = ledger.post({
        key: `invoice:${customerId}:${month}`,
        kind: 'invoice',
        reference: `invoice ${customerId} ${month}`,
        atMs: issuedMs,
        lines: chargeEntries(ledger, ACCOUNTS.customer(customerId), bill.lines),
      });
      prep(db, 'INSERT INTO billing_invoices (customer_id, month, total, tx_id, issued_ms, bill_json) VALUES (?, ?, ?, ?, ?, ?)').run(
        customerId,
        month,
        bill.totalMinor,
        tx.id,
        issuedMs,
        JSON.stringify(bill),
      );
      return invoiceOf(db, customerId, month) as Invoice;
    })
    .immediate();
}

export function invoiceOf(db: StoreDb, customerId: string, month: string): Invoice | undefined {
  ensureBillingSchema(db);
  const r = prep<[string, string], InvoiceRow>(db, 'SELECT * FROM billing_invoices WHERE customer_id = ? AND month = ?').get(customerId, month);
  return r ? fromRow(r) : undefined;
}

export interface OpenInvoice {
  readonly invoice: Invoice;
  readonly openMinor: Minor;
}

/** Invoices with an unpaid remainder, oldest month first. */
export function openInvoices(db: StoreDb, customerId: string): OpenInvoice[] {
  ensureBillingSchema(db);
  return prep<[string], InvoiceRow & { paid: number }>(
    db,
    `SELECT i.*, coalesce((SELECT sum(amount) FROM billing_allocations a WHERE a.invoice_id = i.id), 0) AS paid
       FROM billing_invoices i WHERE customer_id = ? ORDER BY month`,
  )
    .all(customerId)
    .filter((r) => r.total > r.paid)
    .map((r) => ({ invoice: fromRow(r), openMinor: minor(r.total - r.paid) }));
}

export interface Allocation {
  readonly invoiceId: number;
  readonly month: string;
  readonly amountMinor: Minor;
}

/**
 * Allocates a payment to the oldest open invoices. The payment is the ledger transaction posted under
 * paymentKey by the payment side (cash debited, this customer's receivable credited); its amount is
 * read from the ledger, so an allocation can never exceed money that arrived. Allocation moves no
 * money: it records which invoice a payment settles. Idempotent per payment; what is left over stays
 * as credit on the account. (A later reversal of the payment does not undo its allocation yet.)
 */
export function allocatePayment(db: StoreDb, ledger: Ledger, customerId: string, paymentKey: string): { allocations: Allocation[]; unallocatedMinor: Minor } {
  ensureBillingSchema(db);
  const tx = ledger.byKey(paymentKey);
  if (!tx) throw new Error(`no payment ${paymentKey} in the ledger`);
  const account = ACCOUNTS.customer(customerId);
  const amount = -tx.lines.filter((l) => l.account === account).reduce((s, l) => s + l.amountMinor, 0);
  if (amount <= 0) throw new Error(`transaction ${paymentKey} pays nothing to ${customerId}`);
  const paymentRef = paymentKey;
  return db
    .transaction(() => {
      const done = prep<[string, string], { invoice_id: number; month: string; amount: number }>(
        db,
        'SELECT a.invoice_id, i.month, a.amount FROM billing_allocations a JOIN billing_invoices i ON i.id = a.invoice_id WHERE a.payment_ref = ? AND i.customer_id = ? ORDER BY i.month',
      ).all(paymentRef, customerId);
      const toAlloc = (r: { invoice_id: number; month: string; amount: number }): Allocation => ({
        invoiceId: r.invoice_id,
        month: r.month,
        amountMinor: minor(r.amount),
      });
      if (done.length > 0) {
        const used = done.reduce((s, r) => s + r.amount, 0);
        return { allocations: done.map(toAlloc), unallocatedMinor: minor(amount - used) };
      }
      let left: number = amount;
      const out: Allocation[] = [];
      const ins = prep(db, 'INSERT INTO billing_allocations (invoice_id, payment_ref, amount) VALUES (?, ?, ?)');
      for (const o of openInvoices(db, customerId)) {
        if (left === 0) break;
        const take = Math.min(left, o.openMinor);
        ins.run(o.invoice.id, paymentRef, take);
        out.push({ invoiceId: o.invoice.id, month: o.invoice.month, amountMinor: minor(take) });
        left -= take;
      }
      return { allocations: out, unallocatedMinor: minor(left) };
    })
    .immediate();
}
