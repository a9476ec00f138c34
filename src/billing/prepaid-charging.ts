import type { StoreDb } from '../store/database.js';
import { intervals } from '../store/history.js';
import { LocalCalendar, nextDay } from './calendar.js';
import { ensureBillingSchema } from './billing-schema.js';
import { chargeEntries } from './bill-posting.js';
import { assignmentsOf, listCustomers, type Customer } from './customers.js';
import { ACCOUNTS, type Ledger } from './ledger.js';
import { minor, negate, type Minor } from './money.js';
import { rateFixedDay, rateIncrement, type BillLine, type IntervalEnergy, type Usage } from './rating.js';
import type { Tariff } from './tariff.js';
import { loadTariff } from './tariff-store.js';
import { prep } from './sql-cache.js';
import { lateResolutions } from './resolved-intervals.js';

const INTERVAL_MS = 900_000;
/** Month states kept for intervals that arrive late (a meter catching up after an outage). */
const KEEP_MONTHS = 2;

export interface ChargeOptions {
  readonly ledger: Ledger;
  readonly timeZone: string;
  /** Credit levels (minor units) at which a low-balance event is raised when crossed downwards. */
  readonly lowBalanceThresholdsMinor?: readonly number[];
  /**
   * Also charge the fixed monthly charge and fees (and their taxes) per local day: see chargeFixedDays.
   * Off by default for now, so callers that do not ask keep charging energy and its tax only.
   */
  readonly chargeFixed?: boolean;
}

export interface BalanceEvent {
  readonly customerId: string;
  readonly kind: 'low-balance' | 'zero';
  readonly thresholdMinor: number;
  readonly creditMinor: Minor;
  readonly protected: boolean;
  readonly atMs: number;
}

export interface Charge {
  readonly customerId: string;
  readonly txId: number;
  readonly amountMinor: Minor;
  readonly lines: readonly BillLine[];
}

/** A customer whose charging failed this run: nothing of theirs was committed; retried next run. */
export interface ChargeFailure {
  readonly customerId: string;
  readonly reason: string;
}

export interface ChargeResult {
  readonly charges: readonly Charge[];
  /** The events of this run; each is also in billing_balance_events, committed with its charge (takeBalanceEvents). */
  readonly events: readonly BalanceEvent[];
  readonly failures: readonly ChargeFailure[];
}

/** Prepaid credit = what the site owes the customer = minus the liability account's debit balance. */
export function prepaidCredit(ledger: Ledger, customerId: string, atMs?: number): Minor {
  return negate(ledger.balance(ACCOUNTS.customer(customerId), atMs));
}

/**
 * Charges every prepaid customer of the ledger's site for the intervals that arrived since the last
 * run. Each customer is charged in isolation, in one SQLite transaction holding the ledger posting, the
 * advanced watermarks, the month-to-date state and the balance events it causes (billing_balance_events),
 * so a crash commits either all of it or nothing. A customer that cannot be charged (unknown tariff, no
 * version in force, an amount out of range) is rolled back and reported in `failures`; the others go on.
 * Events report credit crossing a threshold or zero; acting on them is for governance.
 */
export function chargeNewIntervals(db: StoreDb, nowMs: number, opts: ChargeOptions): ChargeResult {
  ensureBillingSchema(db);
  const cal = LocalCalendar.for(opts.timeZone);
  const charges: Charge[] = [];
  const events: BalanceEvent[] = [];
  const failures: ChargeFailure[] = [];
  const keep = prep(db, 'INSERT INTO billing_balance_events (customer_id, kind, threshold, credit, protected, at_ms) VALUES (?, ?, ?, ?, ?, ?)');
  for (const c of listCustomers(db, { site: opts.ledger.site, mode: 'prepaid' })) {
    try {
      const done = db
        .transaction(() => {
          const tariff = loadTariff(db, c.tariffId);
          if (!tariff) throw new Error(`unknown tariff ${c.tariffId}`);
          const before = prepaidCredit(opts.ledger, c.id);
          const fixed = opts.chargeFixed ? chargeFixedDays(db, c, tariff, nowMs, cal, opts) : [];
          const charge = chargeCustomer(db, c, tariff, nowMs, cal, opts);
          const mine = [...fixed, ...(charge ? [charge.charge] : [])];
          if (mine.length === 0) return { mine, evs: [] };
          const evs = crossings(c, before, prepaidCredit(opts.ledger, c.id), nowMs, opts.lowBalanceThresholdsMinor ?? []);
          for (const e of evs) keep.run(e.customerId, e.kind, e.thresholdMinor, e.creditMinor, e.protected ? 1 : 0, e.atMs);
          return { mine, evs };
        })
        .immediate();
      charges.push(...done.mine);
      events.push(...done.evs);
    } catch (e) {
      failures.push({ customerId: c.id, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { charges, events, failures };
}

/** The balance events committed so far, oldest first; `done` removes them once they were handed on. */
export function takeBalanceEvents(db: StoreDb): { events: BalanceEvent[]; done: () => void } {
  ensureBillingSchema(db);
  const rows = prep<[], { id: number; customer_id: string; kind: BalanceEvent['kind']; threshold: number; credit: number; protected: number; at_ms: number }>(
    db,
    'SELECT * FROM billing_balance_events ORDER BY id',
  ).all();
  const last = rows[rows.length - 1]?.id ?? 0;
  return {
    events: rows.map((r) => ({
      customerId: r.customer_id,
      kind: r.kind,
      thresholdMinor: r.threshold,
      creditMinor: minor(r.credit),
      protected: r.protected === 1,
      atMs: r.at_ms,
    })),
    done: () => void prep(db, 'DELETE FROM billing_balance_events WHERE id <= ?').run(last),
  };
}

function chargeCustomer(db: StoreDb, c: Customer, tariff: Tariff, nowMs: number, cal: LocalCalendar, opts: ChargeOptions) {
  const ranges: string[] = [];
  const fresh: IntervalEnergy[] = [];
  const setMark = prep(
    db,
    'INSERT INTO billing_watermarks (customer_id, meter_key, next_ms) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET next_ms = excluded.next_ms',
  );
  // Quarantined intervals read as 0 kWh; those resolved after the watermark passed them are charged here, once.
  const late = lateResolutions(db, c.id, assignmentsOf(db, c.id));
  fresh.push(...late.intervals);
  ranges.push(...late.ranges);
  for (const a of assignmentsOf(db, c.id)) {
    const mark = prep<[string, string], number>(db, 'SELECT next_ms FROM billing_watermarks WHERE customer_id = ? AND meter_key = ?')
      .pluck()
      .get(c.id, a.meterKey);
    const from = Math.max(mark ?? a.fromMs, a.fromMs);
    const to = Math.min(a.toMs ?? nowMs, nowMs);
    if (from >= to) continue;
    const rows = intervals(db, a.meterKey, from, to);
    const last = rows[rows.length - 1];
    if (!last) continue;
    for (const r of rows) fresh.push({ startMs: r.startMs, kWh: r.energyImportKWh ?? 0 });
    ranges.push(`${a.meterKey}@${from}-${last.startMs + INTERVAL_MS}`);
    setMark.run(c.id, a.meterKey, last.startMs + INTERVAL_MS);
  }
  if (fresh.length === 0) return undefined;

  const states = loadStates(db, c.id);
  const lines: BillLine[] = [];
  const byMonth = new Map<string, IntervalEnergy[]>();
  for (const iv of fresh) {
    const m = cal.month(iv.startMs);
    const list = byMonth.get(m);
    if (list) list.push(iv);
    else byMonth.set(m, [iv]);
  }
  for (const [month, ivs] of [...byMonth.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const inc = rateIncrement(states[month], ivs, tariff, opts.timeZone);
    states[month] = inc.state;
    lines.push(...inc.lines);
  }
  saveStates(db, c.id, states);
  const amount = lines.reduce((s, l) => s + l.amountMinor, 0);
  if (amount === 0) return undefined;
  const account = ACCOUNTS.customer(c.id);
  const before = prepaidCredit(opts.ledger, c.id);
  const { tx } = opts.ledger.post({
    key: `prepaid:${c.id}:${ranges.join(',')}`,
    kind: 'consumption',
    reference: ranges.join(','),
    atMs: nowMs,
    lines: chargeEntries(opts.ledger, account, lines),
  });
  return { charge: { customerId: c.id, txId: tx.id, amountMinor: minor(amount), lines }, before, after: prepaidCredit(opts.ledger, c.id) };
}

/**
 * The fixed charge and fees of every local day that has started (its local midnight is at or before
 * nowMs) and not been charged yet, from the first day whose midnight falls inside one of the customer's
 * meter assignments. A day is charged only if the customer had a meter at its midnight. One ledger
 * transaction per day under the key prepaid-fixed:<customer>:<YYYY-MM-DD> (idempotent), and a
 * per-customer next-day watermark. Amounts: rateFixedDay (cumulative rounding: a whole month sums to
 * exactly the monthly fixed charge, fees and their taxes).
 */
function chargeFixedDays(db: StoreDb, c: Customer, tariff: Tariff, nowMs: number, cal: LocalCalendar, opts: ChargeOptions): Charge[] {
  const assigns = assignmentsOf(db, c.id);
  const first = assigns[0];
  if (!first) return [];
  const stored = prep<[string], string>(db, 'SELECT next_day FROM billing_prepaid_fixed_days WHERE customer_id = ?').pluck().get(c.id);
  let day = stored ?? cal.clock.day(first.fromMs);
  if (stored === undefined && cal.dayStart(day) < first.fromMs) day = nextDay(day);
  const out: Charge[] = [];
  const account = ACCOUNTS.customer(c.id);
  for (let start = cal.dayStart(day); start <= nowMs; day = nextDay(day), start = cal.dayStart(day)) {
    if (!assigns.some((a) => a.fromMs <= start && (a.toMs === null || start < a.toMs))) continue;
    const lines = rateFixedDay(tariff, day, opts.timeZone);
    const amount = lines.reduce((s, l) => s + l.amountMinor, 0);
    if (amount === 0) continue;
    const { tx, duplicate } = opts.ledger.post({
      key: `prepaid-fixed:${c.id}:${day}`,
      kind: 'fixed-charge',
      reference: `fixed charge and fees ${day}`,
      atMs: Math.max(start, 0),
      lines: chargeEntries(opts.ledger, account, lines),
    });
    if (!duplicate) out.push({ customerId: c.id, txId: tx.id, amountMinor: minor(amount), lines });
  }
  // Written only when it moved: an unchanged row rewritten every run still costs a page (SD wear).
  if (day !== stored) {
    prep(db, 'INSERT INTO billing_prepaid_fixed_days (customer_id, next_day) VALUES (?, ?) ON CONFLICT DO UPDATE SET next_day = excluded.next_day').run(
      c.id,
      day,
    );
  }
  return out;
}

function crossings(c: Customer, before: number, after: number, atMs: number, thresholds: readonly number[]): BalanceEvent[] {
  const out: BalanceEvent[] = [];
  for (const th of [...thresholds].sort((a, b) => b - a)) {
    if (th > 0 && before > th && after <= th)
      out.push({ customerId: c.id, kind: 'low-balance', thresholdMinor: th, creditMinor: minor(after), protected: c.protected, atMs });
  }
  if (before > 0 && after <= 0) out.push({ customerId: c.id, kind: 'zero', thresholdMinor: 0, creditMinor: minor(after), protected: c.protected, atMs });
  return out;
}

function loadStates(db: StoreDb, customerId: string): Record<string, Usage> {
  const json = prep<[string], string>(db, 'SELECT usage_json FROM billing_prepaid_state WHERE customer_id = ?').pluck().get(customerId);
  return json === undefined ? {} : (JSON.parse(json) as Record<string, Usage>);
}

function saveStates(db: StoreDb, customerId: string, states: Record<string, Usage>): void {
  const keep: Record<string, Usage> = {};
  for (const m of Object.keys(states).sort().slice(-KEEP_MONTHS)) keep[m] = states[m] as Usage;
  prep(db, 'INSERT INTO billing_prepaid_state (customer_id, usage_json) VALUES (?, ?) ON CONFLICT DO UPDATE SET usage_json = excluded.usage_json').run(
    customerId,
    JSON.stringify(keep),
  );
}
