import { ZonedClock } from '../store/zoned-clock.js';
import type { Tariff, TariffVersion } from './tariff.js';

const DAY_MS = 86_400_000;

/** Local months, days and times of day in the site zone, with the current month cached (rating is hot). */
export class LocalCalendar {
  readonly clock: ZonedClock;
  private mStart = Infinity;
  private mEnd = -Infinity;
  private mKey = '';
  private mNum = 0;

  constructor(timeZone: string) {
    this.clock = new ZonedClock(timeZone);
  }

  private static readonly shared = new Map<string, LocalCalendar>();

  /** One calendar per zone for the process: its offset cache is what makes rating 10,000 customers fast. */
  static for(timeZone: string): LocalCalendar {
    let c = LocalCalendar.shared.get(timeZone);
    if (!c) {
      c = new LocalCalendar(timeZone);
      LocalCalendar.shared.set(timeZone, c);
    }
    return c;
  }

  /** 'YYYY-MM' of instant ms. */
  month(ms: number): string {
    if (ms >= this.mStart && ms < this.mEnd) return this.mKey;
    this.mKey = this.clock.day(ms).slice(0, 7);
    this.mNum = Number(this.mKey.slice(0, 4)) * 12 + Number(this.mKey.slice(5, 7));
    this.mStart = this.dayStart(`${this.mKey}-01`);
    this.mEnd = this.dayStart(`${nextMonth(this.mKey)}-01`);
    return this.mKey;
  }

  /** year * 12 + month of instant ms: a number key for hot loops. */
  monthNumber(ms: number): number {
    this.month(ms);
    return this.mNum;
  }

  monthRange(ym: string): [number, number] {
    return [this.dayStart(`${ym}-01`), this.dayStart(`${nextMonth(ym)}-01`)];
  }

  private readonly starts = new Map<string, number>();

  /** Local midnight of a 'YYYY-MM-DD' day, cached (fixed charges and versions ask for the same days). */
  dayStart(day: string): number {
    let s = this.starts.get(day);
    if (s === undefined) {
      s = this.clock.dayRange(day)[0];
      if (this.starts.size > 5_000) this.starts.clear();
      this.starts.set(day, s);
    }
    return s;
  }

  minuteOfDay(ms: number): number {
    const local = ms + this.offset(ms);
    return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
  }

  /** 0 = Sunday. 1970-01-01 was a Thursday. */
  weekday(ms: number): number {
    const local = ms + this.offset(ms);
    return (((Math.floor(local / DAY_MS) + 4) % 7) + 7) % 7;
  }

  private dStart = Infinity;
  private dEnd = -Infinity;
  private dOffset = 0;

  /** The zone offset, taken once per local day when it does not change that day (no DST switch). */
  private offset(ms: number): number {
    if (ms >= this.dStart && ms < this.dEnd) return this.dOffset;
    const day = this.clock.day(ms);
    const start = this.dayStart(day);
    const end = this.dayStart(nextDay(day));
    const off = this.clock.offsetMs(start);
    if (off !== this.clock.offsetMs(end - 1)) return this.clock.offsetMs(ms);
    this.dStart = start;
    this.dEnd = end;
    this.dOffset = off;
    return off;
  }
}

export function nextMonth(ym: string): string {
  const d = new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)), 1));
  return d.toISOString().slice(0, 7);
}

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

export function daysInMonth(ym: string): number {
  return new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)), 0)).getUTCDate();
}

/** Which tariff version is in force at an instant: the last whose effectiveFrom local midnight is not after it. */
export class VersionClock {
  private readonly starts: number[];

  constructor(
    private readonly tariff: Tariff,
    cal: LocalCalendar,
  ) {
    this.starts = tariff.versions.map((v) => cal.dayStart(v.effectiveFrom));
  }

  at(ms: number): TariffVersion | undefined {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      if (ms >= (this.starts[i] as number)) return this.tariff.versions[i];
    }
    return undefined;
  }
}
