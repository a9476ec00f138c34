import type { StatementRow } from '../billing/ledger.js';
import type { StoreDb } from '../store/database.js';
import { intervals } from '../store/history.js';
import { ZonedClock } from '../store/zoned-clock.js';

/**
 * A statement row as people read it. `reference` stays what the ledger holds (machine-readable, e.g.
 * `meter3@1796578044867-1796579100000`; the idempotency key is separate again and never shown);
 * `description` says it in words in the site's time zone, e.g. "Energy 14:00–14:15, 0.42 kWh".
 */
export interface DescribedRow extends StatementRow {
  readonly description: string;
  /** Energy charged by a consumption row (kWh), null for other rows. */
  readonly energyKWh: number | null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const PROVIDERS: Record<string, string> = {
  cash: 'Cash payment, receipt',
  mtn: 'MTN MoMo payment, transaction',
  airtel: 'Airtel Money payment, transaction',
  pesapal: 'Pesapal payment, confirmation',
};

/** `meter3@<fromMs>-<toMs>` (intervals starting in [from, to)) or `meter3@resolved#<id>` (a corrected interval). */
const RANGE = /^([^@,]+)@(\d+)-(\d+)$/;
const RESOLVED = /^([^@,]+)@resolved#(\d+)$/;

/** "3 Jun" from YYYY-MM-DD. */
const shortDay = (day: string): string => `${Number(day.slice(8, 10))} ${MONTHS[Number(day.slice(5, 7)) - 1] ?? day.slice(5, 7)}`;

export function formatKWh(kWh: number): string {
  const digits = Math.abs(kWh) < 10 ? 2 : 1;
  return `${new Intl.NumberFormat('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(kWh)} kWh`;
}

/**
 * Turns ledger statement rows into rows with a description and the energy charged. Energy comes from the
 * stored 15-minute intervals of each range (one query per meter for the whole statement).
 */
export function describeStatement(db: StoreDb, rows: readonly StatementRow[], timeZone: string): DescribedRow[] {
  const clock = new ZonedClock(timeZone);
  const hm = (ms: number): string => clock.format(ms).slice(11, 16);
  // Energy per meter over the span of all its ranges, summed by range with a binary search.
  const spans = new Map<string, { from: number; to: number }>();
  for (const r of rows) {
    if (r.kind !== 'consumption') continue;
    for (const part of r.reference.split(',')) {
      const m = RANGE.exec(part);
      if (!m?.[1]) continue;
      const s = spans.get(m[1]);
      const from = Number(m[2]);
      const to = Number(m[3]);
      spans.set(m[1], { from: Math.min(s?.from ?? from, from), to: Math.max(s?.to ?? to, to) });
    }
  }
  const energy = new Map<string, { starts: number[]; prefix: number[] }>();
  for (const [meter, s] of spans) {
    const ivs = intervals(db, meter, s.from, s.to);
    const prefix = [0];
    for (const iv of ivs) prefix.push((prefix[prefix.length - 1] ?? 0) + (iv.energyImportKWh ?? 0));
    energy.set(meter, { starts: ivs.map((iv) => iv.startMs), prefix });
  }
  const firstAtOrAfter = (starts: readonly number[], t: number): number => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((starts[mid] ?? Infinity) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const kWhOf = (meter: string, from: number, to: number): number | null => {
    const e = energy.get(meter);
    if (!e) return null;
    return (e.prefix[firstAtOrAfter(e.starts, to)] ?? 0) - (e.prefix[firstAtOrAfter(e.starts, from)] ?? 0);
  };
  /** "14:00–14:15", "9 Jun 14:00–14:15" (another day than the row's), "3 Jun 10:15 – 10 Jun 10:00" (across days). */
  const span = (from: number, to: number, rowDay: string): string => {
    const dayFrom = clock.day(from);
    const sameDay = clock.day(to) === dayFrom || clock.day(to - 1) === dayFrom;
    if (sameDay) return `${dayFrom === rowDay ? '' : `${shortDay(dayFrom)} `}${hm(from)}–${hm(to)}`;
    return `${shortDay(dayFrom)} ${hm(from)} – ${shortDay(clock.day(to))} ${hm(to)}`;
  };

  return rows.map((r): DescribedRow => {
    const rowDay = clock.day(r.atMs);
    if (r.kind === 'consumption') {
      const parts = r.reference.split(',');
      const meters = new Set(parts.map((p) => p.split('@')[0]));
      let total: number | null = 0;
      const words: string[] = [];
      for (const p of parts) {
        const m = RANGE.exec(p);
        const meter = (p.split('@')[0] ?? '') + ' ';
        const who = meters.size > 1 ? meter : '';
        if (m?.[1]) {
          const kWh = kWhOf(m[1], Number(m[2]), Number(m[3]));
          total = total === null || kWh === null ? null : total + kWh;
          words.push(`${who}${span(Number(m[2]), Number(m[3]), rowDay)}${kWh === null || parts.length === 1 ? '' : ` ${formatKWh(kWh)}`}`);
          continue;
        }
        const res = RESOLVED.exec(p);
        total = null;
        words.push(res ? `corrected interval of ${res[1]}` : p);
      }
      const kWh = total === null ? null : Math.round(total * 1e6) / 1e6;
      return { ...r, description: `Energy ${words.join('; ')}${kWh === null ? '' : `, ${formatKWh(kWh)}`}`, energyKWh: kWh };
    }
    if (r.kind === 'payment') {
      const [provider = '', ...rest] = r.reference.split(' ');
      const label = PROVIDERS[provider];
      return { ...r, description: label ? `${label} ${rest.join(' ')}`.trim() : `Payment ${r.reference}`, energyKWh: null };
    }
    if (r.kind === 'fixed-charge') {
      const day = /(\d{4}-\d{2}-\d{2})$/.exec(r.reference)?.[1];
      return { ...r, description: day ? `Fixed charge and fees, ${shortDay(day)}` : r.reference, energyKWh: null };
    }
    if (r.kind === 'invoice') {
      const month = /(\d{4})-(\d{2})$/.exec(r.reference);
      return { ...r, description: month ? `Invoice for ${MONTH_NAMES[Number(month[2]) - 1]} ${month[1]}` : r.reference, energyKWh: null };
    }
    if (r.kind === 'reversal') return { ...r, description: `Reversal: ${r.reference}`, energyKWh: null };
    return { ...r, description: r.reference, energyKWh: null };
  });
}
