import { z } from '#zod';

/**
 * An IANA time zone this Node knows (Africa/Kampala, UTC). Checked when the file is read, because
 * every local-day calculation (intervals, CSV days, tariffs, no-disconnect windows) needs it and
 * would otherwise fail only after the database and the first admin had been created.
 */
export function isTimeZone(zone: string): boolean {
  // Offsets such as +03:00 are refused: they have no daylight-saving rules and no IANA name.
  if (!/^[A-Za-z]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z.string().refine(isTimeZone, {
  error: 'not an IANA time zone this system knows; allowed: a name such as Africa/Kampala, Africa/Nairobi or UTC',
});
