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
