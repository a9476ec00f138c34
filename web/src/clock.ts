/**
 * The site's time in the browser. The server is the one clock: every API response carries its
 * reading (x-mgos-time), and the UI's "today" and "last 7 days" use it, so they agree with the
 * audit log and the governance gate even when the browser's own clock is wrong.
 */
let offsetMs = 0;

export function observeServerTime(header: string | null): void {
  const t = header === null ? NaN : Number(header);
  if (Number.isFinite(t) && t > 0) offsetMs = t - Date.now();
}

/** Now by the site controller's clock, in ms since the epoch. */
export function siteNow(): number {
  return Date.now() + offsetMs;
}
