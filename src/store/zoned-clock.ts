/**
 * Local wall-clock time in the site's IANA time zone, via Intl (no tz database of our own).
 * Offsets are cached per quarter hour: zone transitions fall on quarter hours, and formatting every
 * reading of a CSV day through Intl would be slow on a Raspberry Pi.
 */
const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;

export class ZonedClock {
  private readonly parts: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(readonly timeZone: string) {
    // Throws RangeError for an unknown zone, which is what a caller passing a bad config should see.
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** Local time minus UTC at instant ms. */
  offsetMs(ms: number): number {
    const q = Math.floor(ms / QUARTER_MS);
    let off = this.offsets.get(q);
    if (off === undefined) {
      const t = q * QUARTER_MS;
      const p: Record<string, number> = {};
      for (const { type, value } of this.parts.formatToParts(t)) p[type] = Number(value);
      off = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - t;
      if (this.offsets.size > 10_000) this.offsets.clear();
      this.offsets.set(q, off);
    }
    return off;
  }

  /** 'YYYY-MM-DD HH:mm:ss' local time. */
  format(ms: number): string {
    const iso = new Date(Math.floor(ms / 1000) * 1000 + this.offsetMs(ms)).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }

  /** 'YYYY-MM-DD', the local calendar day of instant ms. */
  day(ms: number): string {
    return new Date(ms + this.offsetMs(ms)).toISOString().slice(0, 10);
  }

  /** [start, end) in unix ms of a local calendar day given as 'YYYY-MM-DD'. */
  dayRange(day: string): [number, number] {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    if (!m) throw new Error(`expected a day as YYYY-MM-DD, got "${day}"`);
    const midnightUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return [this.localMidnight(midnightUtc), this.localMidnight(midnightUtc + DAY_MS)];
  }

  /** Start of the local day containing instant ms. */
  dayStart(ms: number): number {
    return this.dayRange(this.day(ms))[0];
  }

  /** The instant local midnight begins for a day whose midnight, read as UTC, is wallMs. */
  private localMidnight(wallMs: number): number {
    let t = wallMs - this.offsetMs(wallMs);
    t = wallMs - this.offsetMs(t);
    // Where a DST jump skips midnight, the day starts at the first instant that belongs to it.
    while (this.day(t) < new Date(wallMs).toISOString().slice(0, 10)) t += QUARTER_MS;
    return t;
  }
}
