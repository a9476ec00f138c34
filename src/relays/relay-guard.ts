import type Database from 'better-sqlite3';
import { systemClock } from '../util/clock.js';
import type { RelayState } from './relay-driver.js';

/** A relay write the guard did not allow (docs/devices.md#write-wear: minimum dwell, daily write budget). */
export class RelayRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'dwell' | 'budget',
    readonly module: string,
    readonly channel: number,
  ) {
    super(message);
    this.name = 'RelayRefused';
  }
}

export interface RelayGuardOptions {
  /** Minimum time between two state changes of one channel (docs/devices.md#write-wear). Default 15 min. */
  readonly minDwellMs?: number;
  /** State changes allowed per channel and local day; beyond it the channel is read-only until tomorrow. Default 20. */
  readonly dailyWriteBudget?: number;
  /**
   * Restoring supply (a close) skips the dwell, so a customer who pays right after a disconnect is not
   * left without power for the dwell time; it still counts against the daily budget. Default true.
   */
  readonly restoreBypassesDwell?: boolean;
  /** The day the budget is counted in (the site's time zone). Default UTC. */
  readonly timeZone?: string;
  readonly now?: () => number;
}

export const RELAY_GUARD_DEFAULTS = { minDwellMs: 15 * 60_000, dailyWriteBudget: 20 } as const;

/**
 * Wear protection for relay channels, persisted in SQLite so a restart does not reset it: every state
 * change of a channel is counted per local day, and the time of the last change is kept.
 */
export class RelayWriteGuard {
  readonly minDwellMs: number;
  readonly dailyWriteBudget: number;
  private readonly restoreBypassesDwell: boolean;
  private readonly now: () => number;
  private readonly day: Intl.DateTimeFormat;

  constructor(
    private readonly db: Database.Database,
    o: RelayGuardOptions = {},
  ) {
    this.minDwellMs = o.minDwellMs ?? RELAY_GUARD_DEFAULTS.minDwellMs;
    this.dailyWriteBudget = o.dailyWriteBudget ?? RELAY_GUARD_DEFAULTS.dailyWriteBudget;
    this.restoreBypassesDwell = o.restoreBypassesDwell ?? true;
    this.now = o.now ?? systemClock;
    this.day = new Intl.DateTimeFormat('en-CA', { timeZone: o.timeZone ?? 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' });
    db.exec(`CREATE TABLE IF NOT EXISTS relay_channel_writes (
      module TEXT NOT NULL,
      channel INTEGER NOT NULL,
      day TEXT NOT NULL,
      writes INTEGER NOT NULL,
      last_ms INTEGER NOT NULL,
      PRIMARY KEY (module, channel, day)
    )`);
  }

  /** Writes today and the last change of a channel. */
  usage(module: string, channel: number): { writesToday: number; lastChangeMs: number | null } {
    const writes = this.db
      .prepare<[string, number, string], number>('SELECT writes FROM relay_channel_writes WHERE module = ? AND channel = ? AND day = ?')
      .pluck()
      .get(module, channel, this.dayOf(this.now()));
    const last = this.db
      .prepare<[string, number], number | null>('SELECT MAX(last_ms) FROM relay_channel_writes WHERE module = ? AND channel = ?')
      .pluck()
      .get(module, channel);
    return { writesToday: writes ?? 0, lastChangeMs: last ?? null };
  }

  /**
   * Throws RelayRefused when switching the channel to `want` now would break the dwell or the budget.
   * A `safety` switch (load shedding by the edge cycle when the site islands, and putting back what it
   * shed) is never refused: an island that cannot shed its non-critical loads overloads the inverter,
   * which trips and leaves everyone dark, critical loads included; safety outranks wear. It is still
   * counted (record), so billing's own switching sees the wear it caused.
   */
  check(module: string, channel: number, want: RelayState, o: { safety?: boolean } = {}): void {
    if (o.safety) return;
    const now = this.now();
    const u = this.usage(module, channel);
    if (u.writesToday >= this.dailyWriteBudget) {
      throw new RelayRefused(
        `relay ${module} channel ${channel}: daily write budget of ${this.dailyWriteBudget} changes used up (${this.dayOf(now)}); read-only until tomorrow`,
        'budget',
        module,
        channel,
      );
    }
    const bypass = want === 'closed' && this.restoreBypassesDwell;
    if (!bypass && u.lastChangeMs !== null && now - u.lastChangeMs < this.minDwellMs) {
      const wait = Math.ceil((this.minDwellMs - (now - u.lastChangeMs)) / 1000);
      throw new RelayRefused(
        `relay ${module} channel ${channel}: last changed ${Math.round((now - u.lastChangeMs) / 1000)} s ago, minimum dwell is ${Math.round(this.minDwellMs / 1000)} s (${wait} s to go)`,
        'dwell',
        module,
        channel,
      );
    }
  }

  /** Counts one write to the channel (called before the write goes out, so a failed write still counts). */
  record(module: string, channel: number): void {
    const now = this.now();
    this.db
      .prepare(
        'INSERT INTO relay_channel_writes (module, channel, day, writes, last_ms) VALUES (?, ?, ?, 1, ?) ON CONFLICT (module, channel, day) DO UPDATE SET writes = writes + 1, last_ms = excluded.last_ms',
      )
      .run(module, channel, this.dayOf(now), now);
  }

  private dayOf(ms: number): string {
    return this.day.format(new Date(ms));
  }
}
