import type { RouteRegistry } from '../api/route.js';
import { systemClock } from '../util/clock.js';
import type { Ledger } from '../billing/ledger.js';
import { monthFigures } from './billing-figures.js';
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
    const f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(t));
    const g = (k: string): number => Number(f.find((p) => p.type === k)?.value);
    return Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second')) - t;
  };
  let start = guess - offsetAt(guess);
  start = guess - offsetAt(start);
  return { month: `${y}-${String(m).padStart(2, '0')}`, startMs: start };
}

/**
 * GET /api/billing/dashboard: per site, this local month's revenue (energy, fixed charge and fees, from the
 * ledger), what was billed (revenue and every tax) and paid, arrears now (postpaid receivables and prepaid
 * overdrafts) and the collection rate: the share of what was due this month (debt brought in plus this
 * month's charges) that was collected. It was payments / billed, which counted prepaid top-ups beyond
 * what was used (an advance, not a collection) and showed e.g. 3289 %; it cannot exceed 100 % now.
 */
export function registerBillingDashboardRoutes(routes: RouteRegistry, d: BillingDashboardDeps): void {
  const now = d.now ?? systemClock;
  routes.add({
    method: 'GET',
    url: '/api/billing/dashboard',
    summary: "Per site: this month's revenue, billed, payments, arrears and collection rate (collectedMinor / dueMinor, 0..1, null when nothing was due)",
    role: 'viewer',
    handler: () => {
      return { sites: [monthFigures(d.db, d.ledger, d.timeZone, now())] };
    },
  });
}
