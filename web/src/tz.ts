import { siteNow } from './clock.js';
/**
 * Calendar days in the site's time zone. The operator's phone may be set to another zone,
 * and "today" must mean the site's day so it matches the CSV and the daily energy figures.
 */
const fmts = new Map<string, Intl.DateTimeFormat>();

export function validTz(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    return 'UTC';
  }
}

function partsFmt(tz: string): Intl.DateTimeFormat {
  let f = fmts.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    fmts.set(tz, f);
  }
  return f;
}

/** Wall-clock fields of `ts` in `tz`. */
function wall(ts: number, tz: string): { y: number; m: number; d: number; hh: number; mm: number; ss: number } {
  const parts = partsFmt(tz).formatToParts(new Date(ts));
  const get = (t: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { y: get('year'), m: get('month'), d: get('day'), hh: get('hour') % 24, mm: get('minute'), ss: get('second') };
}

function offsetMs(ts: number, tz: string): number {
  const w = wall(ts, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm, w.ss) - Math.floor(ts / 1000) * 1000;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function dayOf(ts: number, tz: string): string {
  const w = wall(ts, tz);
  return `${pad(w.y, 4)}-${pad(w.m)}-${pad(w.d)}`;
}

export const today = (tz: string): string => dayOf(siteNow(), tz);

export function isDay(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
}

function ymd(day: string): [number, number, number] {
  const [y = 1970, m = 1, d = 1] = day.split('-').map(Number);
  return [y, m, d];
}

/** Unix ms of local midnight starting `day` in `tz`; two passes settle DST changes. */
export function midnight(day: string, tz: string): number {
  const [y, m, d] = ymd(day);
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - offsetMs(guess, tz);
  return guess - offsetMs(first, tz);
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = ymd(day);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export function dayRange(day: string, tz: string): [number, number] {
  return [midnight(day, tz), midnight(addDays(day, 1), tz)];
}

/** The calendar month holding `day`, as [first day, first day of next month]. */
export function monthRange(day: string, tz: string): [number, number] {
  const [y, m] = ymd(day);
  const first = `${pad(y, 4)}-${pad(m)}-01`;
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return [midnight(first, tz), midnight(next, tz)];
}
