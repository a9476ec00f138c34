import { daysInMonth, LocalCalendar, nextDay, VersionClock } from './calendar.js';
import { divHalfEven, formatMinor, minor, minorFromBig, type Currency, type Minor } from './money.js';
import { formatKWh, formatPrice, lineAmount, MWH_PER_KWH } from './price.js';
import type { Tariff } from './tariff.js';
import { accumulate, cloneUsage, emptyUsage, type IntervalEnergy, type Usage } from './usage.js';

export type { IntervalEnergy, Usage } from './usage.js';

export interface BillLine {
  readonly kind: 'energy' | 'fixed' | 'fee' | 'tax';
  readonly description: string;
  readonly quantityKWh?: number;
  /** 1/10,000 minor unit per kWh (price.ts). */
  readonly unitPrice?: number;
  readonly amountMinor: Minor;
  readonly tariffVersion: number;
  /** Tax lines: the tax's name, which names its payable account (VAT -> tax:vat-payable). */
  readonly taxName?: string;
  /** Fee lines: the fee's name. */
  readonly feeName?: string;
}

export interface Bill {
  readonly currency: Currency;
  readonly lines: readonly BillLine[];
  readonly totalMinor: Minor;
}

export interface Period {
  readonly fromMs: number;
  readonly toMs: number;
}

/** When the customer had a meter: toMs null = still assigned. */
export interface ServicePeriod {
  readonly fromMs: number;
  readonly toMs: number | null;
}

interface Keyed {
  key: string;
  line: BillLine;
  mWh?: number;
}

/**
 * Rates the intervals starting in [fromMs, toMs). Pure and deterministic: the same input gives the same
 * bill, so any bill can be recomputed. Each interval is priced by the version in force at its start;
 * each line is rounded half-even once; taxes are rounded per tax per version on their base lines.
 * Fixed charge and fees: see fixedLines. includeFixed=false rates energy and its tax only (prepaid).
 */
export function rate(
  intervals: readonly IntervalEnergy[],
  tariff: Tariff,
  period: Period,
  timeZone: string,
  opts: { includeFixed?: boolean; service?: readonly ServicePeriod[] } = {},
): Bill {
  const cal = LocalCalendar.for(timeZone);
  const versions = new VersionClock(tariff, cal);
  const usage = emptyUsage();
  const inside = intervals.filter((i) => i.startMs >= period.fromMs && i.startMs < period.toMs).sort((a, b) => a.startMs - b.startMs);
  accumulate(usage, inside, cal, versions);
  const fixed = opts.includeFixed === false ? [] : fixedLines(period, tariff, cal, versions, opts.service);
  return toBill(tariff.currency, priceUsage(usage, fixed, tariff));
}

export interface Increment {
  /** The difference per line: quantities and amounts newly charged. */
  readonly lines: readonly BillLine[];
  readonly amountMinor: Minor;
  /** Month-to-date state to pass to the next call. */
  readonly state: Usage;
}

/**
 * Prepaid: charges newly arrived intervals (in time order, none before what state has seen) given the
 * month-to-date state. The amount is rate(month so far + new) - rate(month so far), per line, so the
 * increments of a local calendar month add up exactly to rating that month at once (without fixed
 * charge); rounding never drifts. The state resets at each new local month.
 */
export function rateIncrement(state: Usage | undefined, intervals: readonly IntervalEnergy[], tariff: Tariff, timeZone: string): Increment {
  const cal = LocalCalendar.for(timeZone);
  const versions = new VersionClock(tariff, cal);
  const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs);
  let cur = state ? cloneUsage(state) : emptyUsage();
  const out: BillLine[] = [];
  let i = 0;
  while (i < sorted.length) {
    const month = cal.month((sorted[i] as IntervalEnergy).startMs);
    let j = i;
    while (j < sorted.length && cal.month((sorted[j] as IntervalEnergy).startMs) === month) j++;
    if (cur.month !== month) {
      if (cur.month !== undefined && cur.month > month) throw new RangeError(`intervals of ${month} arrive after ${cur.month} was charged`);
      cur = emptyUsage(month);
    }
    const before = priceUsage(cur, [], tariff);
    accumulate(cur, sorted.slice(i, j), cal, versions);
    out.push(...diffLines(before, priceUsage(cur, [], tariff)));
    i = j;
  }
  return { lines: out, amountMinor: sumLines(out), state: cur };
}

function diffLines(before: readonly Keyed[], after: readonly Keyed[]): BillLine[] {
  const prev = new Map(before.map((k) => [k.key, k]));
  const out: BillLine[] = [];
  for (const a of after) {
    const b = prev.get(a.key);
    const amount = a.line.amountMinor - (b?.line.amountMinor ?? 0);
    const dq = (a.mWh ?? 0) - (b?.mWh ?? 0);
    if (amount === 0 && dq === 0) continue;
    const line: BillLine = {
      ...a.line,
      amountMinor: minor(amount),
      description: `${a.line.description} (month to date; increment ${dq ? formatKWh(dq) : 'tax'})`,
    };
    out.push(a.mWh === undefined ? line : { ...line, quantityKWh: dq / MWH_PER_KWH });
  }
  return out;
}

function priceUsage(u: Usage, fixed: readonly Keyed[], tariff: Tariff): Keyed[] {
  const energy: Keyed[] = Object.entries(u.buckets)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, b]) => ({
      key,
      mWh: b.mWh,
      line: {
        kind: 'energy',
        description: `${b.label} at ${formatPrice(b.priceE4, tariff.currency)}, ${formatKWh(b.mWh)}`,
        quantityKWh: b.mWh / MWH_PER_KWH,
        unitPrice: b.priceE4,
        amountMinor: lineAmount(b.mWh, b.priceE4),
        tariffVersion: b.version,
      },
    }));
  return [...energy, ...fixed, ...taxLines([...energy, ...fixed], tariff)];
}

/** One line per tax per version: rate x (sum of that version's base lines), rounded half-even. */
function taxLines(base: readonly Keyed[], tariff: Tariff): Keyed[] {
  const out: Keyed[] = [];
  for (const v of tariff.versions) {
    v.taxes.forEach((tax, j) => {
      const lines = base.filter(
        (k) => k.line.tariffVersion === v.version && tax.base.includes(k.line.kind === 'fixed' ? 'fixed' : k.line.kind === 'fee' ? 'fees' : 'energy'),
      );
      if (lines.length === 0) return;
      const b = sumLines(lines.map((k) => k.line));
      out.push({
        key: `v${v.version}|tax${j}`,
        line: {
          kind: 'tax',
          description: `${tax.name} ${tax.rateBp / 100}% of ${formatMinor(b, tariff.currency)} (${tax.base.join(' + ')}, tariff v${v.version})`,
          amountMinor: minorFromBig(divHalfEven(BigInt(b) * BigInt(tax.rateBp), 10_000n)),
          tariffVersion: v.version,
          taxName: tax.name,
        },
      });
    });
  }
  return out;
}

/**
 * Fixed monthly charge and named fees, prorated by local days: a day counts when its local midnight
 * lies in [fromMs, toMs) and is charged by the version in force that day; a month's line (one for the
 * fixed charge, one per fee) is monthly x days / daysInMonth, rounded half-even. A whole month therefore
 * costs exactly the fixed charge and each fee, and a month split between two periods costs at most 1
 * minor unit more or less per line. With `service`, only days of service count (postpaid: a meter
 * assigned on the 28th of a 31-day month pays 4/31; no meter, no fixed lines).
 */
function fixedLines(period: Period, tariff: Tariff, cal: LocalCalendar, versions: VersionClock, service?: readonly ServicePeriod[]): Keyed[] {
  const days = new Map<string, { version: number; month: string; name?: string; monthly: number; days: number }>();
  let day = cal.clock.day(period.fromMs);
  for (let start = cal.dayStart(day); start < period.toMs; day = nextDay(day), start = cal.dayStart(day)) {
    const v = start >= period.fromMs ? versions.at(start) : undefined;
    if (!v) continue;
    if (service && !servedOn(service, start, cal.dayStart(nextDay(day)))) continue;
    const month = day.slice(0, 7);
    const items: Array<{ key: string; name?: string; monthly: number }> = [];
    if (v.fixedMonthlyMinor !== 0) items.push({ key: `v${String(v.version).padStart(4, '0')}|f|${month}`, monthly: v.fixedMonthlyMinor });
    (v.fees ?? []).forEach((fee, j) => {
      if (fee.amountMinor !== 0)
        items.push({ key: `v${String(v.version).padStart(4, '0')}|g${String(j).padStart(3, '0')}|${month}`, name: fee.name, monthly: fee.amountMinor });
    });
    for (const it of items) {
      const d = days.get(it.key) ?? { version: v.version, month, ...(it.name === undefined ? {} : { name: it.name }), monthly: it.monthly, days: 0 };
      d.days++;
      days.set(it.key, d);
    }
  }
  return [...days.entries()].map(([key, d]) => {
    const dim = daysInMonth(d.month);
    const amountMinor = minorFromBig(divHalfEven(BigInt(d.monthly) * BigInt(d.days), BigInt(dim)));
    const of = `${d.days}/${dim} days of ${formatMinor(minor(d.monthly), tariff.currency)}`;
    const line: BillLine =
      d.name === undefined
        ? { kind: 'fixed', description: `Fixed charge ${d.month}: ${of}`, amountMinor, tariffVersion: d.version }
        : { kind: 'fee', description: `${d.name} ${d.month}: ${of}`, amountMinor, tariffVersion: d.version, feeName: d.name };
    return { key, line };
  });
}

/** A day of service: the customer had a meter for some part of the local day [startMs, endMs). */
function servedOn(service: readonly ServicePeriod[], startMs: number, endMs: number): boolean {
  return service.some((s) => s.fromMs < endMs && (s.toMs === null || s.toMs > startMs));
}

/**
 * Prepaid: the fixed charge and fees (with the taxes levied on them) for one local day, by cumulative
 * rounding: the day's line is rate(month start .. end of the day) - rate(month start .. start of the
 * day), fixed and fee lines only. Each day gets the monthly amount x 1/daysInMonth rounded up or down,
 * and the days of a month add up exactly to the month rated at once: the fixed charge, each fee, and
 * each tax rounded once on their monthly total.
 */
export function rateFixedDay(tariff: Tariff, day: string, timeZone: string): BillLine[] {
  const cal = LocalCalendar.for(timeZone);
  const versions = new VersionClock(tariff, cal);
  const monthStart = cal.dayStart(`${day.slice(0, 7)}-01`);
  const upTo = (toMs: number): Keyed[] => {
    const fixed = fixedLines({ fromMs: monthStart, toMs }, tariff, cal, versions);
    return [...fixed, ...taxLines(fixed, tariff)];
  };
  const before = upTo(cal.dayStart(day));
  const after = upTo(cal.dayStart(nextDay(day)));
  const prev = new Map(before.map((k) => [k.key, k.line.amountMinor]));
  const out: BillLine[] = [];
  for (const a of after) {
    const amount = a.line.amountMinor - (prev.get(a.key) ?? 0);
    if (amount === 0) continue;
    const what =
      a.line.kind === 'tax' ? `${a.line.taxName ?? 'Tax'} on fixed charge and fees` : a.line.kind === 'fee' ? (a.line.feeName ?? 'Fee') : 'Fixed charge';
    out.push({
      ...a.line,
      amountMinor: minor(amount),
      description: `${what} ${day} (day ${Number(day.slice(8, 10))} of ${daysInMonth(day.slice(0, 7))}, tariff v${a.line.tariffVersion})`,
    });
  }
  return out;
}

function sumLines(lines: readonly BillLine[]): Minor {
  let s = 0;
  for (const l of lines) s += l.amountMinor;
  return minor(s);
}

function toBill(currency: Currency, keyed: readonly Keyed[]): Bill {
  const order = (k: Keyed): number => (k.line.kind === 'energy' ? 0 : k.line.kind === 'fixed' ? 1 : k.line.kind === 'fee' ? 2 : 3);
  const lines = [...keyed].sort((a, b) => a.line.tariffVersion - b.line.tariffVersion || order(a) - order(b)).map((k) => k.line);
  return { currency, lines, totalMinor: sumLines(lines) };
}
