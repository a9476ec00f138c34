import { z } from '#zod';

/**
 * A calendar day written YYYY-MM-DD that exists: 2026-13-45 and 2026-02-31 are refused instead of
 * being rolled over by Date or matching nothing (an empty CSV with 200). A day is valid when it
 * comes back unchanged from Date.UTC.
 */
const SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCalendarDate(s: string): boolean {
  const m = SHAPE.exec(s);
  if (!m) return false;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Years below 100 are mapped to 19xx by Date.UTC; they never round-trip and are refused with the rest.
  return new Date(ms).toISOString().slice(0, 10) === s;
}

/** Why `s` is not a calendar date, as the end of a sentence that names the field; null when it is one. */
export function calendarDateProblem(s: string): string | null {
  if (isCalendarDate(s)) return null;
  if (!SHAPE.test(s)) return `expected a date written YYYY-MM-DD, e.g. 2026-04-01, but found "${s}"`;
  return `"${s}" is not a day of the calendar (month 01-12, day within that month); write YYYY-MM-DD, e.g. 2026-04-01`;
}

/** The zod schema for every date field of the API and the site file. */
export const calendarDate = z.string().superRefine((s, ctx) => {
  const problem = calendarDateProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
