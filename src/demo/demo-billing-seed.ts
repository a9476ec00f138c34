import type { Logger } from 'pino';
import { LocalCalendar, nextDay } from '../billing/calendar.js';
import { assignMeter, consumptionOf, createCustomer, getCustomer, listCustomers } from '../billing/customers.js';
import { invoiceMonth, invoiceOf } from '../billing/postpaid.js';
import { rate, rateFixedDay } from '../billing/rating.js';
import { loadTariff, saveTariff } from '../billing/tariff-store.js';
import type { BillingRuntime } from '../billing-runtime/index.js';
import { billingConfigSchema, type SiteConfig } from '../config/site-config.js';
import { DuplicateReceipt } from '../payments/adapters/cash.js';
import type { Recorder } from '../recorder/recorder.js';
import type { StoreDb } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import type { DemoMobileMoney } from './demo-mobile-money.js';

/**
 * Billing for the demo, so that a newcomer's billing section is not empty: two tariffs, prepaid and
 * postpaid customers on the demo meters charged for the simulated history, payments in cash and by
 * mobile money (the local Airtel sandbox), last month's invoices, one customer near zero credit and one
 * below zero with a pending disconnect proposal. Everything goes through the services the API uses (the
 * tariff store, customers, the payment processor, prepaid charging, invoicing, the governance gate), at
 * the system clock. It runs once: a row in demo_seed marks it done, every step is idempotent on its own
 * (a seeding cut short is completed by the next start), and a site with customers of its own is left alone.
 */

const TZ_FALLBACK = 'Africa/Kampala';
const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;

/** UGX prices: 1/10,000 of a shilling per kWh (price.ts). */
const ugxPerKWh = (ugx: number): number => ugx * 10_000;

export const DEMO_TARIFFS = [
  {
    id: 'demo-residential',
    name: 'Residential (lifeline blocks)',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2020-01-01',
        energy: {
          kind: 'block',
          blocks: [
            { upToKWh: 15, priceE4: ugxPerKWh(250) },
            { upToKWh: 100, priceE4: ugxPerKWh(756) },
            { upToKWh: null, priceE4: ugxPerKWh(900) },
          ],
        },
        fixedMonthlyMinor: 3_360,
        fees: [{ name: 'Meter rental', amountMinor: 2_000 }],
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed', 'fees'] }],
      },
    ],
  },
  {
    id: 'demo-business-tou',
    name: 'Business (time of use)',
    currency: 'UGX',
    versions: [
      {
        version: 1,
        effectiveFrom: '2020-01-01',
        energy: {
          kind: 'tou',
          periods: [
            { name: 'Peak', fromMinute: 18 * 60, toMinute: 24 * 60, priceE4: ugxPerKWh(1_050) },
            { name: 'Off-peak', fromMinute: 0, toMinute: 6 * 60, priceE4: ugxPerKWh(450) },
          ],
          otherwisePriceE4: ugxPerKWh(700),
        },
        fixedMonthlyMinor: 10_000,
        fees: [{ name: 'Service fee', amountMinor: 5_000 }],
        taxes: [{ name: 'VAT', rateBp: 1800, base: ['energy', 'fixed', 'fees'] }],
      },
    ],
  },
] as const;

type Role = 'comfortable' | 'near-zero' | 'below-zero' | 'invoice-paid' | 'invoice-part-paid';
interface DemoCustomer {
  readonly id: string;
  readonly name: string;
  readonly phone: string;
  readonly tariffId: string;
  readonly mode: 'prepaid' | 'postpaid';
  readonly meter: number;
  readonly protected?: boolean;
  readonly role: Role;
  readonly pays: 'cash' | 'airtel';
}

export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [
  { id: 'amina', name: 'Amina Nakato', phone: '+256772410001', tariffId: 'demo-residential', mode: 'prepaid', meter: 2, role: 'comfortable', pays: 'cash' },
  { id: 'okello', name: 'John Okello', phone: '+256700410002', tariffId: 'demo-residential', mode: 'prepaid', meter: 3, role: 'comfortable', pays: 'airtel' },
  { id: 'grace', name: 'Grace Atim', phone: '+256772410003', tariffId: 'demo-residential', mode: 'prepaid', meter: 4, role: 'near-zero', pays: 'cash' },
  { id: 'moses', name: 'Moses Ssempala', phone: '+256700410004', tariffId: 'demo-residential', mode: 'prepaid', meter: 5, role: 'below-zero', pays: 'cash' },
  {
    id: 'health-centre',
    name: 'Kasese Health Centre II',
    phone: '+256700410005',
    tariffId: 'demo-residential',
    mode: 'prepaid',
    meter: 6,
    protected: true,
    role: 'comfortable',
    pays: 'airtel',
  },
  {
    id: 'kevin-shop',
    name: "Mama Kevin's shop",
    phone: '+256772410006',
    tariffId: 'demo-business-tou',
    mode: 'prepaid',
    meter: 7,
    role: 'comfortable',
    pays: 'cash',
  },
  {
    id: 'kato-salon',
    name: 'Kato Salon',
    phone: '+256700410007',
    tariffId: 'demo-business-tou',
    mode: 'prepaid',
    meter: 8,
    role: 'comfortable',
    pays: 'airtel',
  },
  {
    id: 'st-jude-school',
    name: 'St Jude Primary School',
    phone: '+256700410008',
    tariffId: 'demo-business-tou',
    mode: 'postpaid',
    meter: 9,
    role: 'invoice-paid',
    pays: 'airtel',
  },
  {
    id: 'bosco-mill',
    name: 'Bosco Maize Mill',
    phone: '+256772410009',
    tariffId: 'demo-business-tou',
    mode: 'postpaid',
    meter: 10,
    role: 'invoice-part-paid',
    pays: 'cash',
  },
];

export interface DemoSeedDeps {
  readonly db: StoreDb;
  readonly config: SiteConfig;
  readonly billing: BillingRuntime;
  readonly recorder: Recorder;
  /** The system clock given to startSystem: every time the seeding writes comes from it. */
  readonly clock: Clock;
  readonly log: Logger;
  /** The in-process mobile-money sandbox; without it every payment is cash. */
  readonly mobileMoney: DemoMobileMoney | null;
}

export interface DemoSeedResult {
  /** False when the demo was seeded before (or has customers of its own): nothing was added. */
  readonly seeded: boolean;
  readonly note: string;
  readonly tariffs: readonly string[];
  readonly customers: readonly string[];
  /** Payment ids (intents) made by this seeding. */
  readonly payments: readonly string[];
  readonly invoices: readonly number[];
  readonly pendingDisconnects: number;
}

const MARK = 'billing';

function ensureMarkTable(db: StoreDb): void {
  db.exec('CREATE TABLE IF NOT EXISTS demo_seed (what TEXT PRIMARY KEY, done_ms INTEGER NOT NULL, note TEXT NOT NULL)');
}

/** When the demo's billing was seeded (or found not to need it), or undefined. */
export function demoSeededAt(db: StoreDb): { doneMs: number; note: string } | undefined {
  ensureMarkTable(db);
  const r = db.prepare<[string], { done_ms: number; note: string }>('SELECT done_ms, note FROM demo_seed WHERE what = ?').get(MARK);
  return r ? { doneMs: r.done_ms, note: r.note } : undefined;
}

const roundUp = (x: number, step: number): number => Math.ceil(x / step) * step;

export async function seedDemoBilling(d: DemoSeedDeps): Promise<DemoSeedResult> {
  const { db, billing, clock, log } = d;
  const site = d.config.site.id;
  const tz = d.config.site.timezone || TZ_FALLBACK;
  const nothing = (note: string): DemoSeedResult => ({ seeded: false, note, tariffs: [], customers: [], payments: [], invoices: [], pendingDisconnects: 0 });
  const before = demoSeededAt(db);
  if (before) return nothing(`seeded before: ${before.note}`);
  const mark = (note: string): void => void db.prepare('INSERT OR IGNORE INTO demo_seed (what, done_ms, note) VALUES (?, ?, ?)').run(MARK, clock(), note);
  const ours = new Set(DEMO_CUSTOMERS.map((c) => c.id));
  const foreign = listCustomers(db, { site }).filter((c) => !ours.has(c.id));
  if (foreign.length > 0) {
    const note = `not seeded: the site has customers of its own (${foreign.length})`;
    mark(note);
    return nothing(note);
  }
  const currency = billing.ledger.currency;
  if (currency !== 'UGX') {
    const note = `not seeded: the demo tariffs are in UGX, the ledger in ${currency}`;
    mark(note);
    return nothing(note);
  }

  const now = clock();
  const cal = LocalCalendar.for(tz);
  // The simulated history (the demo backfills it on its first start) starts this long ago; prepaid meters
  // are assigned from its first whole 15-minute interval, postpaid ones from the 1st of last month.
  const historyDays = Math.max(1, d.config.sim?.backfillDays ?? 7);
  const prepaidFrom = roundUp(now - historyDays * DAY_MS, QUARTER_MS);
  const thisMonth = cal.month(now);
  const lastMonth = cal.month(cal.monthRange(thisMonth)[0] - 1);
  const postpaidFrom = Math.min(cal.monthRange(lastMonth)[0], prepaidFrom);

  // 1. Tariffs: a block tariff with a lifeline block, and a time-of-use tariff, both with fees and VAT.
  const tariffs: string[] = [];
  for (const t of DEMO_TARIFFS) {
    if (!loadTariff(db, t.id)) saveTariff(db, t, { currency });
    tariffs.push(t.id);
  }

  // 2. Customers, each with a demo meter assigned in the past (one transaction each, like POST /api/customers).
  const customers: string[] = [];
  for (const c of DEMO_CUSTOMERS) {
    if (!getCustomer(db, c.id)) {
      db.transaction(() => {
        createCustomer(db, billing.ledger, {
          id: c.id,
          name: c.name,
          phone: c.phone,
          site,
          tariffId: c.tariffId,
          mode: c.mode,
          protected: c.protected ?? false,
        });
        assignMeter(db, c.id, `meter${c.meter}`, c.mode === 'prepaid' ? prepaidFrom : postpaidFrom);
      })();
    }
    customers.push(c.id);
  }

  // 3. Prepaid top-ups, sized on what the history will cost each customer (the same rating as charging).
  d.recorder.flushAndBuild();
  const payments: string[] = [];
  const chargeFixed = billingConfigSchema.parse(d.config.billing ?? {}).chargeFixedToPrepaid;
  const cost = (c: DemoCustomer): number => {
    const tariff = loadTariff(db, c.tariffId);
    if (!tariff) return 0;
    const ivs = consumptionOf(db, c.id, prepaidFrom, now).map((i) => ({ startMs: i.startMs, kWh: i.kWh }));
    let total: number = rate(ivs, tariff, { fromMs: prepaidFrom, toMs: now }, tz, { includeFixed: false }).totalMinor;
    // With fixed charges for prepaid, every local day whose midnight falls in the assignment (prepaid-charging.ts).
    if (chargeFixed) {
      let day = cal.clock.day(prepaidFrom);
      if (cal.dayStart(day) < prepaidFrom) day = nextDay(day);
      for (; cal.dayStart(day) <= now; day = nextDay(day)) total += rateFixedDay(tariff, day, tz).reduce((s, l) => s + l.amountMinor, 0);
    }
    return total;
  };
  let receipt = 0;
  const pay = async (c: DemoCustomer, amountMinor: number, via: 'cash' | 'airtel', what: string): Promise<void> => {
    receipt++;
    if (amountMinor <= 0) return;
    const account = `customer:${c.id}`;
    if (via === 'airtel' && d.mobileMoney) {
      const reference = `demo-airtel-${c.id}-${receipt}`;
      const msisdn = c.phone;
      const { intent } = await billing.processor.start({
        account,
        provider: 'airtel',
        msisdn,
        amountMinor,
        currency,
        description: `${what} ${c.name}`,
        reference,
      });
      if (intent.state === 'pending') {
        await d.mobileMoney.approve(reference); // the payer approves on the phone; the sandbox calls our callback
        if (billing.processor.store.get(reference)?.state === 'pending') await billing.processor.verifyIntent(reference); // no callback arrived: the status re-query settles it
      }
      payments.push(reference);
      return;
    }
    try {
      const intent = await billing.processor.recordCash({
        account,
        amountMinor,
        currency,
        receipt: `DEMO-${String(receipt).padStart(4, '0')}`,
        agent: 'Kasese office (demo)',
      });
      payments.push(intent.id);
    } catch (e) {
      if (!(e instanceof DuplicateReceipt)) throw e;
    }
  };
  for (const c of DEMO_CUSTOMERS.filter((x) => x.mode === 'prepaid')) {
    const owed = cost(c);
    // near zero: 1,500-2,000 left, under the first low-balance warning; below zero: about 60 % paid, so
    // charging takes the account below zero and governance proposes a disconnect.
    const amount =
      c.role === 'near-zero' ? roundUp(owed + 1_500, 500) : c.role === 'below-zero' ? Math.floor((owed * 0.6) / 1_000) * 1_000 : roundUp(owed + 20_000, 5_000);
    await pay(c, amount, c.pays, 'Top-up');
  }

  // 4. Charge the history (the runtime's own charging run: flush, intervals, charge, credit events, governance).
  await billing.chargeNow();

  // 5. Postpaid: last month's invoice, one paid in full by mobile money, one half paid in cash (arrears).
  const invoices: number[] = [];
  for (const c of DEMO_CUSTOMERS.filter((x) => x.mode === 'postpaid')) {
    const inv = invoiceOf(db, c.id, lastMonth) ?? invoiceMonth(db, billing.ledger, c.id, lastMonth, tz, clock());
    invoices.push(inv.id);
    const amount = c.role === 'invoice-paid' ? inv.totalMinor : Math.floor(inv.totalMinor / 2 / 100) * 100;
    await pay(c, amount, c.pays, `Invoice ${lastMonth}`);
  }

  const pendingDisconnects = billing.gate.list('pending').filter((p) => p.capability === 'disconnect').length;
  const note = `${tariffs.length} tariffs, ${customers.length} customers, ${payments.length} payments, ${invoices.length} invoices for ${lastMonth}, ${pendingDisconnects} pending disconnect proposal(s)`;
  mark(note);
  log.info({ tariffs, customers: customers.length, payments: payments.length, invoices, pendingDisconnects }, 'demo: seeded billing');
  return { seeded: true, note, tariffs, customers, payments, invoices, pendingDisconnects };
}
