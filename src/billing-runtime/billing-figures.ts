import { ACCOUNTS, type Ledger } from '../billing/ledger.js';
import { LocalCalendar } from '../billing/calendar.js';
import { listCustomers } from '../billing/customers.js';
import type { StoreDb } from '../store/database.js';

/** One customer's month, every amount in minor units, debit positive like the ledger. */
export interface CustomerMonth {
  /** The account's balance at the start of the month: positive = owed by the customer, negative = credit held. */
  readonly openingMinor: number;
  /** Charges posted this month (energy, fixed charge, fees and every tax, net of their reversals). */
  readonly billedMinor: number;
  /** Payments received this month (net of payment reversals). */
  readonly paidMinor: number;
}

/**
 * What of a month's amounts due was collected, per customer. Due is the debt brought into the month plus
 * this month's charges; money to pay it is the credit brought into the month plus this month's payments
 * (and any net credit note). Collected is the smaller of the two, so it can never exceed what was due:
 * a prepaid top-up beyond what the customer used this month is an advance, not a collection.
 */
export function collectedOf(m: CustomerMonth): { dueMinor: number; collectedMinor: number } {
  const dueMinor = Math.max(m.openingMinor, 0) + Math.max(m.billedMinor, 0);
  const money = Math.max(-m.openingMinor, 0) + Math.max(m.paidMinor, 0) + Math.max(-m.billedMinor, 0);
  return { dueMinor, collectedMinor: Math.min(dueMinor, money) };
}

/** Collected / due over customers, or null when nothing was due (no division by zero, never above 1). */
export function collectionRate(months: readonly CustomerMonth[]): { dueMinor: number; collectedMinor: number; rate: number | null } {
  let due = 0;
  let collected = 0;
  for (const m of months) {
    const c = collectedOf(m);
    due += c.dueMinor;
    collected += c.collectedMinor;
  }
  return { dueMinor: due, collectedMinor: collected, rate: due > 0 ? collected / due : null };
}

export interface MonthFigures {
  readonly site: string;
  readonly currency: string;
  /** The site's local month, YYYY-MM, and its start (unix ms). */
  readonly month: string;
  readonly monthStartMs: number;
  /** Revenue earned this month (energy + fixed charge + fees), taxes excluded. */
  readonly revenueMinor: number;
  readonly revenueEnergyMinor: number;
  readonly revenueFixedMinor: number;
  readonly revenueFeesMinor: number;
  /** Everything charged to customers this month: revenue plus every tax. */
  readonly billedMinor: number;
  /** Payments received this month, prepaid top-ups included. */
  readonly paymentsMinor: number;
  /** Debt brought into the month plus this month's charges. */
  readonly dueMinor: number;
  /** The part of dueMinor that was paid (from credit held or this month's payments). */
  readonly collectedMinor: number;
  /** Postpaid receivables and prepaid overdrafts now. */
  readonly arrearsMinor: number;
  readonly customersInArrears: number;
  /** collectedMinor / dueMinor, 0..1; null when nothing was due. */
  readonly collectionRate: number | null;
}

const PAYMENT_LIKE = "(t.kind = 'payment' OR (t.kind = 'reversal' AND r.kind = 'payment'))";

/**
 * The site's figures for the local month containing `nowMs`, from the ledger: entries posted from local
 * midnight of the 1st up to and including nowMs.
 */
export function monthFigures(db: StoreDb, ledger: Ledger, timeZone: string, nowMs: number): MonthFigures {
  const cal = LocalCalendar.for(timeZone);
  const month = cal.month(nowMs);
  const startMs = cal.monthRange(month)[0];
  const site = ledger.site;
  // Revenue accounts are credited (negative): negate for the amount earned.
  const credited = (account: string): number =>
    -(
      db
        .prepare<[string, number, number, string], number>(
          'SELECT coalesce(sum(amount), 0) FROM billing_entries WHERE site = ? AND posted_ms >= ? AND posted_ms <= ? AND account = ?',
        )
        .pluck()
        .get(site, startMs, nowMs, account) ?? 0
    ) || 0;
  const energy = credited(ACCOUNTS.revenueEnergy);
  const fixed = credited(ACCOUNTS.revenueFixed);
  const fees = credited(ACCOUNTS.revenueFees);

  const opening = new Map(
    db
      .prepare<[string, number], { account: string; s: number }>(
        "SELECT account, sum(amount) AS s FROM billing_entries WHERE site = ? AND account LIKE 'customer:%' AND posted_ms < ? GROUP BY account",
      )
      .all(site, startMs)
      .map((r) => [r.account, r.s]),
  );
  const inMonth = new Map(
    db
      .prepare<[string, number, number], { account: string; pay: number; bill: number }>(
        `SELECT e.account, sum(CASE WHEN ${PAYMENT_LIKE} THEN e.amount ELSE 0 END) AS pay, sum(CASE WHEN ${PAYMENT_LIKE} THEN 0 ELSE e.amount END) AS bill
         FROM billing_entries e JOIN billing_transactions t ON t.id = e.tx_id LEFT JOIN billing_transactions r ON r.id = t.reverses
         WHERE e.site = ? AND e.account LIKE 'customer:%' AND e.posted_ms >= ? AND e.posted_ms <= ? GROUP BY e.account`,
      )
      .all(site, startMs, nowMs)
      .map((r) => [r.account, r]),
  );
  const customers = listCustomers(db, { site }).map((c) => c.id);
  const months: CustomerMonth[] = [];
  let billed = 0;
  let paid = 0;
  let arrears = 0;
  let inArrears = 0;
  for (const id of customers) {
    const account = ACCOUNTS.customer(id);
    const m = inMonth.get(account);
    const cm = { openingMinor: opening.get(account) ?? 0, billedMinor: m?.bill ?? 0, paidMinor: -(m?.pay ?? 0) || 0 };
    months.push(cm);
    billed += cm.billedMinor;
    paid += cm.paidMinor;
    // Debit positive: a postpaid debt, or a prepaid account overdrawn.
    const b = ledger.balance(account);
    if (b > 0) {
      arrears += b;
      inArrears += 1;
    }
  }
  const rate = collectionRate(months);
  return {
    site,
    currency: ledger.currency,
    month,
    monthStartMs: startMs,
    revenueMinor: energy + fixed + fees,
    revenueEnergyMinor: energy,
    revenueFixedMinor: fixed,
    revenueFeesMinor: fees,
    billedMinor: billed,
    paymentsMinor: paid,
    dueMinor: rate.dueMinor,
    collectedMinor: rate.collectedMinor,
    arrearsMinor: arrears,
    customersInArrears: inArrears,
    collectionRate: rate.rate,
  };
}
