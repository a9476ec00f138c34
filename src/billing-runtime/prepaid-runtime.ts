import { LocalCalendar } from '../billing/calendar.js';
import { assignmentsOf, getCustomer, listCustomers, type Customer } from '../billing/customers.js';
import type { Ledger } from '../billing/ledger.js';
import { formatMinor, minor } from '../billing/money.js';
import { chargeNewIntervals, prepaidCredit, takeBalanceEvents, type ChargeFailure } from '../billing/prepaid-charging.js';
import { rateIncrement, type IntervalEnergy, type Usage } from '../billing/rating.js';
import { loadTariff } from '../billing/tariff-store.js';
import type { StoreDb } from '../store/database.js';
import { rawSeries } from '../store/history.js';
import type { CreditEvent } from '../governance/prepaid-loop.js';
import type { CreditEventHub } from './credit-events.js';

const INTERVAL_MS = 900_000;

export interface PrepaidRuntimeOptions {
  readonly db: StoreDb;
  readonly ledger: Ledger;
  readonly timeZone: string;
  readonly lowBalanceThresholdsMinor: readonly number[];
  /** Charge the fixed monthly charge and fees per local day too (see chargeNewIntervals). */
  readonly chargeFixed?: boolean;
  /** Count not-yet-closed intervals (raw counter readings) against the available credit; nothing is posted for them. */
  readonly provisionalFromRawReadings: boolean;
  readonly events: CreditEventHub;
}

/**
 * Runs billing's chargeNewIntervals and turns balance events into governance credit events, once per
 * crossing: a low threshold is announced once and re-armed only when the credit rises above it again
 * (a payment); zero is announced whenever the credit is at or below zero and not yet announced. With provisionalFromRawReadings, the "available" credit is the ledger credit minus
 * the estimated price of the energy since the last charged interval, so a customer reaches zero within
 * one run instead of when the 15-minute interval closes; the ledger itself only ever holds closed intervals.
 */
export class PrepaidRuntime {
  private readonly lastAvailable = new Map<string, number>();
  private readonly announced = new Map<string, Set<number>>();

  constructor(private readonly o: PrepaidRuntimeOptions) {}

  /**
   * One charging run. Balance events are taken from billing_balance_events, where each was committed with
   * the charge that caused it, so none is lost to a crash or to another customer's failure. Zero is
   * level-triggered: every prepaid customer whose available credit is at or below zero is announced once
   * per process and episode (created at zero, negative, after a restart), and is listed in `atZero` for
   * governance's level check. `failures`: customers that could not be charged (the others were).
   */
  run(nowMs: number): { charged: number; events: number; atZero: CreditEvent[]; failures: ChargeFailure[] } {
    const o = this.o;
    let emitted = 0;
    const r = chargeNewIntervals(o.db, nowMs, {
      ledger: o.ledger,
      timeZone: o.timeZone,
      lowBalanceThresholdsMinor: o.lowBalanceThresholdsMinor,
      chargeFixed: o.chargeFixed ?? false,
    });
    const failures = [...r.failures];
    const taken = takeBalanceEvents(o.db);
    for (const e of taken.events) {
      if (e.kind !== 'low-balance') continue; // zero is judged on the level below
      if (this.announce(e.customerId, e.thresholdMinor, this.availableOr(e.customerId, nowMs, e.creditMinor))) emitted++;
    }
    taken.done();
    const atZero: CreditEvent[] = [];
    for (const c of listCustomers(o.db, { site: o.ledger.site, mode: 'prepaid' })) {
      let avail: number;
      try {
        avail = this.available(c.id, nowMs);
      } catch (e) {
        if (!failures.some((f) => f.customerId === c.id)) failures.push({ customerId: c.id, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
      const prev = this.lastAvailable.get(c.id);
      if (o.provisionalFromRawReadings && prev !== undefined) {
        for (const th of this.levels()) {
          if (th > 0 && prev > th && avail <= th && this.announce(c.id, th, avail)) emitted++;
        }
      }
      if (avail <= 0) {
        if (this.announce(c.id, 0, avail)) emitted++;
        atZero.push({ customer: c.id, balance: this.format(avail) });
      }
      this.rearm(c.id, avail);
      this.lastAvailable.set(c.id, avail);
    }
    return { charged: r.charges.length, events: emitted, atZero, failures };
  }

  /** After a credited payment: re-arm the thresholds and, when the credit is positive, tell governance (receipt, reconnect). */
  afterPayment(customerId: string, amountMinor: number, nowMs: number): void {
    const c = getCustomer(this.o.db, customerId);
    if (!c || c.mode !== 'prepaid') return;
    const avail = this.available(c.id, nowMs);
    this.rearm(c.id, avail);
    this.lastAvailable.set(c.id, avail);
    if (avail > 0) this.o.events.emit('positive', { customer: c.id, balance: this.format(avail), amount: this.format(amountMinor) });
  }

  /** available(), or `fallback` when it cannot be computed (a customer whose tariff cannot rate now). */
  private availableOr(customerId: string, nowMs: number, fallback: number): number {
    try {
      return this.available(customerId, nowMs);
    } catch {
      return fallback;
    }
  }

  /** Credit the customer can still use now: the ledger credit, minus unbilled energy when provisional. */
  available(customerId: string, nowMs: number): number {
    const credit = prepaidCredit(this.o.ledger, customerId);
    if (!this.o.provisionalFromRawReadings) return credit;
    const c = getCustomer(this.o.db, customerId);
    return c ? credit - this.unbilledMinor(c, nowMs) : credit;
  }

  format(amountMinor: number): string {
    return formatMinor(minor(amountMinor), this.o.ledger.currency);
  }

  private levels(): number[] {
    return [...new Set([...this.o.lowBalanceThresholdsMinor.filter((t) => t > 0), 0])].sort((a, b) => b - a);
  }

  private announce(customerId: string, threshold: number, creditMinor: number): boolean {
    let set = this.announced.get(customerId);
    if (!set) this.announced.set(customerId, (set = new Set()));
    if (set.has(threshold)) return false;
    set.add(threshold);
    this.o.events.emit(threshold === 0 ? 'zero' : 'low', { customer: customerId, balance: this.format(creditMinor) });
    return true;
  }

  private rearm(customerId: string, avail: number): void {
    const set = this.announced.get(customerId);
    if (!set) return;
    for (const th of [...set]) if (avail > th) set.delete(th);
  }

  /**
   * The kWh a credit buys for a customer now: the most energy whose price at the tariff in force,
   * from the customer's block position this month, VAT included, fits the credit.
   */
  energyFor(customerId: string, creditMinor: number, nowMs: number): number | null {
    const c = getCustomer(this.o.db, customerId);
    const tariff = c ? loadTariff(this.o.db, c.tariffId) : undefined;
    if (!c || !tariff) return null;
    if (creditMinor <= 0) return 0;
    const month = LocalCalendar.for(this.o.timeZone).month(nowMs);
    const json = this.o.db.prepare<[string], string>('SELECT usage_json FROM billing_prepaid_state WHERE customer_id = ?').pluck().get(c.id);
    const state = json === undefined ? undefined : (JSON.parse(json) as Record<string, Usage>)[month];
    const price = (kWh: number): number => rateIncrement(state, [{ startMs: nowMs, kWh }], tariff, this.o.timeZone).amountMinor;
    let hi = 1;
    while (price(hi) <= creditMinor && hi < 1e7) hi *= 2;
    let lo = 0;
    // Bisection to 1 Wh: prices are monotonic in energy.
    while (hi - lo > 0.001) {
      const mid = (lo + hi) / 2;
      if (price(mid) <= creditMinor) lo = mid;
      else hi = mid;
    }
    return Math.floor(lo * 1000) / 1000;
  }

  /** Price of the energy since each meter's charging watermark, from raw EnergyImport readings. */
  private unbilledMinor(c: Customer, nowMs: number): number {
    const db = this.o.db;
    const tariff = loadTariff(db, c.tariffId);
    if (!tariff) return 0;
    const ivs: IntervalEnergy[] = [];
    for (const a of assignmentsOf(db, c.id)) {
      const mark = db
        .prepare<[string, string], number>('SELECT next_ms FROM billing_watermarks WHERE customer_id = ? AND meter_key = ?')
        .pluck()
        .get(c.id, a.meterKey);
      const from = Math.max(mark ?? a.fromMs, a.fromMs);
      const to = Math.min(a.toMs ?? nowMs, nowMs);
      if (from >= to) continue;
      const series = rawSeries(db, a.meterKey, 'EnergyImport', from - INTERVAL_MS, to);
      const end = series[series.length - 1];
      if (!end) continue;
      let base = series.find((p) => p[0] >= from) ?? end;
      for (const p of series) if (p[0] <= from) base = p;
      const kWh = end[1] - base[1];
      if (kWh > 0) ivs.push({ startMs: from, kWh });
    }
    if (ivs.length === 0) return 0;
    const month = LocalCalendar.for(this.o.timeZone).month(ivs[0]?.startMs ?? nowMs);
    const json = db.prepare<[string], string>('SELECT usage_json FROM billing_prepaid_state WHERE customer_id = ?').pluck().get(c.id);
    const state = json === undefined ? undefined : (JSON.parse(json) as Record<string, Usage>)[month];
    return rateIncrement(state, ivs, tariff, this.o.timeZone).amountMinor;
  }
}
