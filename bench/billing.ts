/**
 * Billing at scale: rate and invoice 10,000 customers for one month of 15-minute data (2,880
 * intervals each, generated in memory one customer at a time), and one day of incremental prepaid
 * charging for 10,000 customers through the store and the ledger. Goal: under 10 s on 2 cores.
 * BENCH_BILLING_CUSTOMERS overrides the count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/store/database.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { insertIntervals } from '../src/store/interval-table.js';
import type { IntervalRow } from '../src/store/interval-calc.js';
import { Ledger, ACCOUNTS } from '../src/billing/ledger.js';
import { parseTariff } from '../src/billing/tariff.js';
import { saveTariff } from '../src/billing/tariff-store.js';
import { rate, type Bill, type IntervalEnergy } from '../src/billing/rating.js';
import { chargeEntries } from '../src/billing/bill-posting.js';
import { assignMeter, createCustomer } from '../src/billing/customers.js';
import { chargeNewIntervals } from '../src/billing/prepaid-charging.js';

const TZ = 'Africa/Kampala';
const Q = 900_000;
const GOAL_MS = 10_000;
const TARIFF = {
  id: 'domestic',
  name: 'Domestic',
  currency: 'UGX' as const,
  versions: [
    {
      version: 1,
      effectiveFrom: '2026-01-01',
      energy: {
        kind: 'block' as const,
        blocks: [
          { upToKWh: 15, priceE4: 2_500_000 },
          { upToKWh: 100, priceE4: 7_500_000 },
          { upToKWh: null, priceE4: 9_000_000 },
        ],
      },
      fixedMonthlyMinor: 3000,
      taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy' as const, 'fixed' as const] }],
    },
    {
      version: 2,
      effectiveFrom: '2026-03-15',
      energy: { kind: 'tou' as const, otherwisePriceE4: 6_000_000, periods: [{ name: 'Peak', fromMinute: 1080, toMinute: 1380, priceE4: 9_500_000 }] },
      fixedMonthlyMinor: 3500,
      taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy' as const, 'fixed' as const] }],
    },
  ],
};

/** Deterministic load: a daily shape times a per-customer size. */
function kWhAt(customer: number, i: number): number {
  const hour = (i % 96) / 4;
  const shape = hour >= 18 && hour < 23 ? 3 : hour >= 6 && hour < 9 ? 1.5 : 0.5;
  return Math.round((0.01 + ((customer * 7919) % 100) / 2000) * shape * 1e6) / 1e6;
}

let peakRss = 0;
const sample = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

export function run(): Record<string, number | string> {
  const customers = Number(process.env.BENCH_BILLING_CUSTOMERS ?? 10_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-billing-'));
  try {
    const tariff = parseTariff(TARIFF);
    const from = Date.parse('2026-03-01T00:00:00+03:00');
    const to = Date.parse('2026-03-31T00:00:00+03:00'); // 30 days = 2,880 intervals
    const period = { fromMs: from, toMs: to };
    const n = (to - from) / Q;

    // 1. Rate a month for every customer (pure), then post every bill to the ledger.
    peakRss = process.memoryUsage().rss;
    const timer = setInterval(sample, 50);
    const t0 = performance.now();
    const bills: Bill[] = [];
    let total = 0;
    let genMs = 0;
    for (let c = 0; c < customers; c++) {
      const g = performance.now();
      const ivs = new Array<IntervalEnergy>(n);
      for (let i = 0; i < n; i++) ivs[i] = { startMs: from + i * Q, kWh: kWhAt(c, i) };
      genMs += performance.now() - g;
      const bill = rate(ivs, tariff, period, TZ);
      total += bill.totalMinor;
      bills.push(bill);
      if (c % 500 === 0) sample();
    }
    const rateMs = performance.now() - t0;
    const db = openDatabase(path.join(dir, 'mgos.db'));
    const ledger = new Ledger(db, 'bench', 'UGX');
    const t1 = performance.now();
    db.transaction(() => {
      bills.forEach((bill, c) => {
        ledger.openAccount(ACCOUNTS.customer(`c${c}`), 'asset');
        ledger.post({
          key: `invoice:c${c}:2026-03`,
          kind: 'invoice',
          reference: 'bench',
          atMs: to,
          lines: chargeEntries(ledger, ACCOUNTS.customer(`c${c}`), bill.lines),
        });
      });
    })();
    const postMs = performance.now() - t1;
    clearInterval(timer);
    sample();
    const monthPeak = peakRss;
    if (ledger.trialBalance().totalMinor !== 0) throw new Error('trial balance is not zero');

    // 2. One day of prepaid charging: 10,000 prepaid customers, one meter each, day 2 of their month.
    saveTariff(db, TARIFF);
    const w = new ReadingWriter(db);
    for (let c = 0; c < customers; c++) w.add({ meter: `m${c}`, ts: 0, values: { ActivePower: 0 } });
    w.flush();
    const ids = db.prepare<[], { id: number; key: string }>('SELECT id, key FROM meters').all();
    const day0 = Date.parse('2026-04-01T00:00:00+03:00');
    const rows = (c: number, dayStart: number): IntervalRow[] =>
      Array.from({ length: 96 }, (_, i) => ({
        startMs: dayStart + i * Q,
        energyImportKWh: kWhAt(c, i),
        energyExportKWh: 0,
        powerAvgW: 1,
        powerMinW: 1,
        powerMaxW: 1,
        voltageMinV: 230,
        voltageMaxV: 230,
        samples: 90,
      }));
    db.transaction(() => {
      ids.forEach(({ id, key }) => {
        const c = Number(key.slice(1));
        createCustomer(db, ledger, { id: `p${c}`, name: `P ${c}`, phone: '+256700000000', site: 'bench', tariffId: 'domestic', mode: 'prepaid' });
        assignMeter(db, `p${c}`, key, day0);
        insertIntervals(db, id, rows(c, day0));
      });
    })();
    chargeNewIntervals(db, day0 + 96 * Q, { ledger, timeZone: TZ }); // day 1 builds month-to-date state
    db.transaction(() => ids.forEach(({ id, key }) => insertIntervals(db, id, rows(Number(key.slice(1)), day0 + 96 * Q))))();
    peakRss = process.memoryUsage().rss;
    const timer2 = setInterval(sample, 50);
    const t2 = performance.now();
    const res = chargeNewIntervals(db, day0 + 192 * Q, { ledger, timeZone: TZ, lowBalanceThresholdsMinor: [1000] });
    const dayMs = performance.now() - t2;
    clearInterval(timer2);
    sample();
    if (ledger.trialBalance().totalMinor !== 0) throw new Error('trial balance is not zero');
    db.close();
    return {
      customers,
      'intervals per customer (month)': n,
      'generate intervals in memory: ms': round(genMs),
      'rate month (excluding generation): ms': round(rateMs - genMs),
      'post invoices to ledger: ms': round(postMs),
      'generate + rate + post: ms': round(rateMs + postMs),
      'generate + rate + post / 10 s goal': round((rateMs + postMs) / GOAL_MS),
      'month: peak RSS MB': round(monthPeak / 1048576),
      'billed total UGX': total,
      'prepaid day (96 intervals, through SQLite + ledger): ms': round(dayMs),
      'prepaid day: charges posted': res.charges.length,
      'prepaid day: peak RSS MB': round(peakRss / 1048576),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(run());
}
