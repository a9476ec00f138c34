import { localTime, parseHhmm } from '../governance/local-time.js';

/** A daily window in the site's local time; `from` > `to` wraps past midnight (22:00-06:00). */
export interface DailyWindow {
  readonly from: string;
  readonly to: string;
  /** Local weekdays it applies on (0 = Sunday); every day when absent. */
  readonly weekdays?: readonly number[];
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function windowProblem(w: DailyWindow): string | null {
  if (!HHMM.test(w.from) || !HHMM.test(w.to)) return `window ${w.from}-${w.to}: times must be HH:MM (24 h)`;
  if (w.from === w.to) return `window ${w.from}-${w.to} is empty`;
  return null;
}

/** Whether `nowMs` falls in the window, judged in `timeZone`. A wrapped window belongs to the day it starts. */
export function inWindow(nowMs: number, timeZone: string, w: DailyWindow): boolean {
  const t = localTime(nowMs, timeZone);
  const from = parseHhmm(w.from);
  const to = parseHhmm(w.to);
  if (from < to) return t.minutes >= from && t.minutes < to && (!w.weekdays || w.weekdays.includes(t.weekday));
  if (t.minutes >= from) return !w.weekdays || w.weekdays.includes(t.weekday);
  if (t.minutes < to) return !w.weekdays || w.weekdays.includes((t.weekday + 6) % 7);
  return false;
}
