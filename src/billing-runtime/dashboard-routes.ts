import type { RouteRegistry } from '../api/route.js';
import { systemClock } from '../util/clock.js';
import { listCustomers } from '../billing/customers.js';
import { ACCOUNTS, type Ledger } from '../billing/ledger.js';
import type { StoreDb } from '../store/database.js';

export interface BillingDashboardDeps {
  readonly db: StoreDb;
  readonly ledger: Ledger;
  readonly timeZone: string;
  readonly now?: () => number;
}

/** Start of the local calendar month containing `ts`, as unix ms, and its YYYY-MM. */
export function localMonthStart(ts: number, timeZone: string): { month: string; startMs: number } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(new Date(ts));
  const y = Number(parts.find((p) => p.type === 'year')?.value);
  const m = Number(parts.find((p) => p.type === 'month')?.value);
  // Local midnight of the 1st: guess UTC midnight, then correct by the zone's offset at that instant.
  const guess = Date.UTC(y, m - 1, 1);
  const offsetAt = (t: number): number => {
    const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(t));
    const g = (k: string): number => Number(f.find((p) => p.type === k)?.value);
    return Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second')) - t;
  };
  let start = guess - offsetAt(guess);
  start = guess - offsetAt(start);
  return { month: `${y}-${String(m).padStart(2, '0')}`, startMs: start };
}

/**
 * GET /api/billing/dashboard: per site, this local month's revenue (energy + fixed, from the ledger),
 * arrears now (postpaid receivables and prepaid overdrafts) and the collection rate (payments received
 * this month / amount billed this month, VAT included; null when nothing was billed).
 */
export function registerBillingDashboardRoutes(routes: RouteRegistry, d: BillingDashboardDeps): void {
  const now = d.now ?? systemClock;
  routes.add({
    method: 'GET',
    url: '/api/billing/dashboard',
    summary: "Per site: this month's revenue, arrears and collection rate",
    role: 'viewer',
    handler: () => {
      const t = now();
      const { month, startMs } = localMonthStart(t, d.timeZone);
      const site = d.ledger.site;
      // Revenue accounts are credited (negative): negate for the amount earned.
      const credited = (where: string, ...args: Array<string | number>): number =>
        -(d.db.prepare<Array<string | number>, number>(`SELECT coalesce(sum(e.amount), 0) FROM billing_entries e WHERE e.site = ? AND e.posted_ms >= ? AND e.posted_ms <= ? AND ${where}`).pluck().get(site, startMs, t, ...args) ?? 0) || 0;
      const energy = credited('e.account = ?', ACCOUNTS.revenueEnergy);
      const fixed = credited('e.account = ?', ACCOUNTS.revenueFixed);
      const tax = credited('e.account = ?', ACCOUNTS.vatPayable);
      // Payments: what left the customers' accounts' debit side through payment transactions (credits to customer:*).
      const paid = credited("e.account LIKE 'customer:%' AND e.tx_id IN (SELECT id FROM billing_transactions WHERE site = ? AND kind = 'payment')", site);
      let arrears = 0;
      let inArrears = 0;
      for (const c of listCustomers(d.db, { site })) {
        const b = d.ledger.balance(ACCOUNTS.customer(c.id));
        // Debit positive: a postpaid debt, or a prepaid account overdrawn.
        if (b > 0) {
          arrears += b;
          inArrears += 1;
        }
      }
      const billed = energy + fixed + tax;
      return {
        sites: [
          {
            site,
            currency: d.ledger.currency,
            month,
            revenueMinor: energy + fixed,
            revenueEnergyMinor: energy,
            revenueFixedMinor: fixed,
            billedMinor: billed,
            paymentsMinor: paid,
            arrearsMinor: arrears,
            customersInArrears: inArrears,
            collectionRate: billed > 0 ? paid / billed : null,
          },
        ],
      };
    },
  });
}
