import type { LocalCalendar, VersionClock } from './calendar.js';
import { MWH_PER_KWH, toMWh } from './price.js';
import type { TariffVersion } from './tariff.js';

/** Energy of one interval. kWh is the imported energy as the recorder stores it. */
export interface IntervalEnergy {
  readonly startMs: number;
  readonly kWh: number;
}

/** Energy summed per price: one bucket becomes one bill line. Keys sort into bill order. */
export interface Bucket {
  version: number;
  label: string;
  priceE4: number;
  mWh: number;
}

/**
 * What rating has seen: buckets plus month-to-date energy per local month (all kinds count, so a block
 * tariff that starts mid-month places the first kWh after what was already used that month).
 * Plain JSON, so prepaid charging can store it between runs.
 */
export interface Usage {
  month?: string;
  buckets: Record<string, Bucket>;
  monthMWh: Record<string, number>;
}

export const emptyUsage = (month?: string): Usage => (month === undefined ? { buckets: {}, monthMWh: {} } : { month, buckets: {}, monthMWh: {} });

export function cloneUsage(u: Usage): Usage {
  const buckets: Record<string, Bucket> = {};
  for (const [k, b] of Object.entries(u.buckets)) buckets[k] = { ...b };
  return { ...u, buckets, monthMWh: { ...u.monthMWh } };
}

const vkey = (v: number): string => `v${String(v).padStart(4, '0')}`;
const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** Bucket of (version, month, slot) by a number: building string keys per interval was the hot spot. */
type Memo = Map<number, Bucket>;

function bucket(u: Usage, memo: Memo, code: number, v: TariffVersion, month: string, slot: number): Bucket {
  let b = memo.get(code);
  if (!b) {
    const [key, label, priceE4] = describe(v, month, slot);
    b = u.buckets[key];
    if (!b) {
      b = { version: v.version, label, priceE4, mWh: 0 };
      u.buckets[key] = b;
    }
    memo.set(code, b);
  }
  return b;
}

/** Key (sorting into bill order), label and price of a slot: flat 0, TOU period index (999 = other hours), block index. */
function describe(v: TariffVersion, month: string, slot: number): [string, string, number] {
  const vk = vkey(v.version);
  const e = v.energy;
  if (e.kind === 'flat') return [`${vk}|e|flat`, 'Energy', e.priceE4];
  if (e.kind === 'tou') {
    const p = e.periods[slot];
    return p
      ? [`${vk}|e|tou${String(slot).padStart(3, '0')}`, `${p.name} ${hhmm(p.fromMinute)}-${hhmm(p.toMinute)}`, p.priceE4]
      : [`${vk}|e|tou~`, 'Other hours', e.otherwisePriceE4];
  }
  const b = e.blocks[slot] as { upToKWh: number | null; priceE4: number };
  const lower = slot === 0 ? 0 : (e.blocks[slot - 1]?.upToKWh ?? 0);
  const range = b.upToKWh === null ? `over ${lower} kWh` : `${lower}-${b.upToKWh} kWh`;
  return [`${vk}|e|${month}|b${String(slot).padStart(3, '0')}`, `${month} Block ${slot + 1}: ${range}`, b.priceE4];
}

/**
 * Adds intervals to usage (mutating it). Each interval is priced by the version in force at its start;
 * intervals must come in time order for block positions to be right. Throws where no version is in force.
 */
export function accumulate(u: Usage, intervals: readonly IntervalEnergy[], cal: LocalCalendar, versions: VersionClock): void {
  const memo: Memo = new Map();
  for (const iv of intervals) {
    const mWh = toMWh(iv.kWh);
    const v = versions.at(iv.startMs);
    if (!v) throw new RangeError(`no tariff version in force at ${new Date(iv.startMs).toISOString()}`);
    const month = cal.month(iv.startMs);
    const pos = u.monthMWh[month] ?? 0;
    u.monthMWh[month] = pos + mWh;
    if (mWh === 0) continue;
    addEnergy(u, memo, v, iv.startMs, month, pos, mWh, cal);
  }
}

function addEnergy(u: Usage, memo: Memo, v: TariffVersion, ms: number, month: string, pos: number, mWh: number, cal: LocalCalendar): void {
  const e = v.energy;
  const base = v.version * 1_000_000_000;
  if (e.kind === 'flat') {
    bucket(u, memo, base, v, month, 0).mWh += mWh;
  } else if (e.kind === 'tou') {
    const minute = cal.minuteOfDay(ms);
    let i = 0;
    for (; i < e.periods.length; i++) {
      const q = e.periods[i] as (typeof e.periods)[number];
      if (inPeriod(minute, q.fromMinute, q.toMinute) && (!q.weekdays || q.weekdays.includes(cal.weekday(ms)))) break;
    }
    const slot = i < e.periods.length ? i : 999;
    bucket(u, memo, base + slot, v, month, slot).mWh += mWh;
  } else {
    // Split the interval across block boundaries of the month-to-date position.
    const monthBase = base + cal.monthNumber(ms) * 1_000;
    let left = mWh;
    let at = pos;
    for (let i = 0; i < e.blocks.length && left > 0; i++) {
      const b = e.blocks[i] as { upToKWh: number | null; priceE4: number };
      const upper = b.upToKWh === null ? Infinity : Math.round(b.upToKWh * MWH_PER_KWH);
      if (at < upper) {
        const take = Math.min(left, upper - at);
        bucket(u, memo, monthBase + i, v, month, i).mWh += take;
        at += take;
        left -= take;
      }
    }
  }
}

function inPeriod(minute: number, from: number, to: number): boolean {
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}
