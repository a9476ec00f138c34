import type { ChannelValue } from './types.js';

export const DASH = '—';

export function num(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : v.toFixed(digits);
}

/** Watts in, kilowatts out: operators think in kW. */
export const kW = (w: number | null | undefined, digits = 2): string => num(w === null || w === undefined ? w : w / 1000, digits);

export const val = (cv: ChannelValue | undefined): number | null => cv?.value ?? null;

const timeFmt = new Map<string, Intl.DateTimeFormat>();

/** hh:mm:ss in the site's time zone, whatever the phone is set to. */
export function clock(ts: number, tz: string): string {
  let f = timeFmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    timeFmt.set(tz, f);
  }
  return f.format(new Date(ts));
}

export function percent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? DASH : `${(fraction * 100).toFixed(0)}%`;
}

const dateTimeFmt = new Map<string, Intl.DateTimeFormat>();

/** "2026-04-03 14:05" in the site's time zone; a dash for no time. */
export function dateTime(ts: number | null | undefined, tz: string): string {
  if (ts === null || ts === undefined || !Number.isFinite(new Date(ts).getTime())) return DASH;
  let f = dateTimeFmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dateTimeFmt.set(tz, f);
  }
  return f.format(new Date(ts)).replace(',', '');
}

/** "installed" -> "Installed": states arrive as lowercase words. */
export const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** "2026-04-03" in the site's time zone. */
export const dateOnly = (ts: number | null | undefined, tz: string): string => dateTime(ts, tz).slice(0, 10);

/**
 * How old a reading is, in words ("just now", "45 s ago", "12 min ago", "3 h ago", "2 days ago"),
 * against the site's clock (`now` from siteNow(), never the browser's own).
 */
export function ago(ts: number, now: number): string {
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}
