import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../util/clock.js';
import { decodePoint, encodePoint, DEFAULT_SCALING, type ScalingOptions } from './point-codec.js';
import { registerWidth, type DeviceProfile, type PointSpec } from './profile-schema.js';

/**
 * Writes a device's settings and commands (profile points marked `writable`) as docs/devices.md#write-wear says:
 * - read first and write only when the value differs (never every cycle);
 * - EEPROM settings (`eeprom: true`) count against a per-device daily write budget persisted in SQLite,
 *   so a restart does not reset it; when it is spent the device is read-only until the next local day
 *   and `onBudgetExceeded` is called (once per device and day) so an alarm can be raised;
 * - mode settings (the profile's `capabilities.modes`) keep a minimum dwell between changes;
 * - every write is read back; a different value is a SettingMismatch naming the register and values.
 * Every write and its read-back is logged in `setting_writes`.
 */
export interface RegisterPort {
  readRegisters(unit: number, functionCode: 3 | 4, start: number, count: number): Promise<number[]>;
  writeRegisters(unit: number, start: number, values: readonly number[]): Promise<void>;
}

export interface SettingDevice {
  /** Component key, e.g. ess0; the budget is per key. */
  readonly key: string;
  readonly address: number;
  readonly profile: DeviceProfile;
  readonly scaling?: Partial<ScalingOptions>;
}

export interface BudgetExceeded {
  readonly device: string;
  readonly day: string;
  readonly budget: number;
  /** The write that was refused. */
  readonly channel: string;
  readonly value: number;
}

export interface SettingWriterOptions {
  readonly clock?: Clock;
  /** The local day the budget counts in. Default UTC. */
  readonly timeZone?: string;
  /** EEPROM writes per day; default the profile's capabilities.dailyEepromWrites, else 20. */
  readonly dailyBudget?: number;
  readonly onBudgetExceeded?: (e: BudgetExceeded) => void;
}

export class SettingRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'unknown' | 'range' | 'budget' | 'dwell',
  ) {
    super(message);
    this.name = 'SettingRefused';
  }
}

export class SettingMismatch extends Error {
  constructor(
    readonly device: string,
    readonly channel: string,
    readonly register: number,
    readonly wrote: number,
    readonly readBack: number,
  ) {
    super(`${device}: wrote ${channel} = ${wrote} to register 0x${register.toString(16).toUpperCase().padStart(4, '0')} but read back ${readBack}`);
    this.name = 'SettingMismatch';
  }
}

export type WriteOutcome = { readonly written: false; readonly value: number } | { readonly written: true; readonly value: number; readonly previous: number };

const TABLES = `
  CREATE TABLE IF NOT EXISTS setting_write_budget (device TEXT NOT NULL, day TEXT NOT NULL, writes INTEGER NOT NULL, PRIMARY KEY (device, day)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS setting_writes (id INTEGER PRIMARY KEY, device TEXT NOT NULL, channel TEXT NOT NULL, register INTEGER NOT NULL, old_value REAL, new_value REAL NOT NULL, read_back REAL, outcome TEXT NOT NULL CHECK (outcome IN ('written', 'mismatch', 'failed')), at_ms INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS setting_writes_by_channel ON setting_writes (device, channel, at_ms);
`;

const keyOf = (p: PointSpec): string => (p.component ? `${p.component}/${p.channel}` : p.channel);

export class SettingWriter {
  readonly budget: number;
  private readonly clock: Clock;
  private readonly day: Intl.DateTimeFormat;
  private readonly scaling: ScalingOptions;
  private readonly points = new Map<string, PointSpec>();
  private readonly alarmed = new Set<string>();
  private readonly modes: ReadonlySet<string>;
  private readonly dwellMs: number;

  constructor(
    private readonly db: Database.Database,
    private readonly port: RegisterPort,
    private readonly device: SettingDevice,
    private readonly o: SettingWriterOptions = {},
  ) {
    db.exec(TABLES); // also in the store's migrations; here so the writer works on any store file
    this.clock = o.clock ?? systemClock;
    this.day = new Intl.DateTimeFormat('en-CA', { timeZone: o.timeZone ?? 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' });
    this.scaling = { ...DEFAULT_SCALING, wordOrder: device.profile.wordOrder, ...device.scaling };
    this.budget = o.dailyBudget ?? device.profile.capabilities?.dailyEepromWrites ?? 20;
    this.modes = new Set(device.profile.capabilities?.modes ?? []);
    this.dwellMs = device.profile.capabilities?.minModeDwellMs ?? 0;
    for (const p of device.profile.groups.flatMap((g) => g.points)) if (p.writable) this.points.set(keyOf(p), p);
  }

  /** EEPROM writes made today (local day) on this device. */
  writesToday(): number {
    const row = this.db.prepare('SELECT writes FROM setting_write_budget WHERE device = ? AND day = ?').get(this.device.key, this.today()) as
      { writes: number } | undefined;
    return row?.writes ?? 0;
  }

  /** True while today's EEPROM budget is spent: settings are then read-only. */
  readOnly(): boolean {
    return this.writesToday() >= this.budget;
  }

  /** Reads a writable point's current value from the device. */
  async read(channel: string): Promise<number> {
    return this.readPoint(this.point(channel));
  }

  /**
   * Sets `channel` to `value` if the device holds another value; reads it back. Throws SettingRefused
   * (unknown point, out of range, budget spent, mode dwell) before anything is written, SettingMismatch
   * when the read-back differs, and the bus's error when the device does not answer.
   */
  async write(channel: string, value: number): Promise<WriteOutcome> {
    const p = this.point(channel);
    const w = p.writable;
    if (!w) throw new SettingRefused(`${this.device.key}: ${channel} is not writable`, 'unknown');
    if (!Number.isFinite(value) || value < w.min || value > w.max) {
      throw new SettingRefused(`${this.device.key}: ${channel} = ${value} is outside ${w.min}..${w.max}`, 'range');
    }
    const wanted = this.roundTrip(p, value);
    const current = await this.readPoint(p);
    if (this.same(p, current, wanted)) return { written: false, value: current };
    const now = this.clock();
    if (this.modes.has(channel) && this.dwellMs > 0) {
      const last = this.db
        .prepare("SELECT max(at_ms) AS at FROM setting_writes WHERE device = ? AND channel = ? AND outcome = 'written'")
        .get(this.device.key, channel) as { at: number | null };
      if (last.at !== null && now - last.at < this.dwellMs) {
        throw new SettingRefused(
          `${this.device.key}: ${channel} changed ${Math.round((now - last.at) / 1000)} s ago; the minimum dwell is ${Math.round(this.dwellMs / 1000)} s`,
          'dwell',
        );
      }
    }
    if (w.eeprom) this.spend(channel, value, now);
    const words = encodePoint(p, wanted, this.scaling);
    try {
      await this.port.writeRegisters(this.device.address, p.register, words);
    } catch (e) {
      this.log(p, channel, current, wanted, null, 'failed', now);
      throw e;
    }
    const readBack = await this.readPoint(p);
    if (!this.same(p, readBack, wanted)) {
      this.log(p, channel, current, wanted, readBack, 'mismatch', now);
      throw new SettingMismatch(this.device.key, channel, p.register, wanted, readBack);
    }
    this.log(p, channel, current, wanted, readBack, 'written', now);
    return { written: true, value: readBack, previous: current };
  }

  private point(channel: string): PointSpec {
    const p = this.points.get(channel);
    if (!p) throw new SettingRefused(`${this.device.key}: no writable point ${channel}; writable: ${[...this.points.keys()].join(', ') || 'none'}`, 'unknown');
    return p;
  }

  /** Counts one EEPROM write against today's budget, or refuses (and alarms once) when it is spent. */
  private spend(channel: string, value: number, now: number): void {
    const day = this.today(now);
    const spent = this.db.transaction(() => {
      const row = this.db.prepare('SELECT writes FROM setting_write_budget WHERE device = ? AND day = ?').get(this.device.key, day) as
        { writes: number } | undefined;
      const writes = row?.writes ?? 0;
      if (writes >= this.budget) return true;
      this.db
        .prepare('INSERT INTO setting_write_budget (device, day, writes) VALUES (?, ?, 1) ON CONFLICT (device, day) DO UPDATE SET writes = writes + 1')
        .run(this.device.key, day);
      return false;
    })();
    if (!spent) return;
    const alarmKey = `${this.device.key}|${day}`;
    if (!this.alarmed.has(alarmKey)) {
      this.alarmed.add(alarmKey);
      this.o.onBudgetExceeded?.({ device: this.device.key, day, budget: this.budget, channel, value });
    }
    throw new SettingRefused(
      `${this.device.key}: the daily EEPROM write budget (${this.budget}) is spent for ${day}; settings are read-only until the next day`,
      'budget',
    );
  }

  private async readPoint(p: PointSpec): Promise<number> {
    const words = await this.port.readRegisters(this.device.address, this.device.profile.functionCode, p.register, registerWidth(p.type));
    return decodePoint({ ...p, component: undefined }, words, this.scaling).value;
  }

  /** The value the device can hold for `value` (its register resolution). */
  private roundTrip(p: PointSpec, value: number): number {
    return decodePoint({ ...p, component: undefined }, encodePoint(p, value, this.scaling), this.scaling).value;
  }

  private same(p: PointSpec, a: number, b: number): boolean {
    return Math.abs(a - b) <= p.scale / 2 + 1e-9 * Math.max(1, Math.abs(b));
  }

  private log(
    p: PointSpec,
    channel: string,
    old: number,
    value: number,
    readBack: number | null,
    outcome: 'written' | 'mismatch' | 'failed',
    at: number,
  ): void {
    this.db
      .prepare('INSERT INTO setting_writes (device, channel, register, old_value, new_value, read_back, outcome, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(this.device.key, channel, p.register, old, value, readBack, outcome, at);
  }

  private today(now = this.clock()): string {
    return this.day.format(now);
  }
}
