import type { RelayClaims } from '../governance/relay-claims.js';
import type Database from 'better-sqlite3';
import { encodePoint, DEFAULT_SCALING } from '../drivers/point-codec.js';
import type { PointSpec } from '../drivers/profile-schema.js';
import { SettingWriter } from '../drivers/setting-writer.js';
import type { ModbusBus } from '../modbus/bus.js';
import type { RelayBank } from '../relays/relay-bank.js';
import type { ControlDevice } from '../site/control-devices.js';
import type { Clock } from '../util/clock.js';

/**
 * Dispatch, decoupled from the cycle (issue 10 item 1: "a slow device never delays the cycle"): one
 * queue per device, latest value wins, never awaited by the cycle. A queue drains in the background:
 * setpoint registers (RAM) take the fast path, one FC16 write, repeated only when the value changes
 * or every `reassertMs` (a device that restarted forgets its setpoint); EEPROM settings go through the
 * SettingWriter (read first, write on change, daily budget, read-back, dwell). A device that is slow
 * or silent only delays its own queue; the cycle sees its state (pending, last error) next cycle.
 */
export interface DispatchState {
  readonly device: string;
  readonly pending: number;
  readonly busy: boolean;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly writes: number;
  /** The value each channel holds as far as we know (last written and acknowledged). */
  readonly written: Readonly<Record<string, number>>;
}

interface Writer {
  write(channel: string, value: number): Promise<void>;
}

export class DispatchQueue {
  private readonly pending = new Map<string, number>();
  private readonly written = new Map<string, { value: number; at: number }>();
  private busy = false;
  private closed = false;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private writes = 0;

  constructor(
    readonly device: string,
    private readonly writer: Writer,
    private readonly clock: Clock,
    private readonly o: {
      reassertMs?: number;
      tolerance?: (channel: string) => number;
      onError?: (channel: string, value: number, err: Error) => void;
      onWritten?: (channel: string, value: number) => void;
    } = {},
  ) {}

  /** Queues a value; an older value of the same channel not yet written is replaced. */
  set(channel: string, value: number): void {
    if (this.closed) return;
    const w = this.written.get(channel);
    const tol = this.o.tolerance?.(channel) ?? 0;
    if (w && Math.abs(w.value - value) <= tol && this.clock() - w.at < (this.o.reassertMs ?? 10_000) && !this.pending.has(channel)) return;
    this.pending.set(channel, value);
    if (!this.busy) void this.drain();
  }

  state(): DispatchState {
    return {
      device: this.device,
      pending: this.pending.size,
      busy: this.busy,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      writes: this.writes,
      written: Object.fromEntries([...this.written].map(([k, v]) => [k, v.value])),
    };
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
  }

  /** Resolves when nothing is pending (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.pending.size && !this.closed) {
        const [channel, value] = this.pending.entries().next().value as [string, number];
        this.pending.delete(channel);
        try {
          await this.writer.write(channel, value);
          this.written.set(channel, { value, at: this.clock() });
          this.writes++;
          this.o.onWritten?.(channel, value);
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.lastError = `${channel} = ${value}: ${err.message}`;
          this.lastErrorAt = this.clock();
          this.written.delete(channel);
          this.o.onError?.(channel, value, err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/** A Modbus device's writer: RAM registers by FC16 directly, EEPROM settings through the SettingWriter. */
export function modbusWriter(
  db: Database.Database,
  bus: ModbusBus,
  d: ControlDevice,
  o: { clock: Clock; timeZone: string; onBudgetExceeded?: (device: string, day: string, budget: number) => void },
): Writer {
  const points = new Map<string, PointSpec>();
  for (const p of d.profile.groups.flatMap((g) => g.points)) if (p.writable) points.set(p.component ? `${p.component}/${p.channel}` : p.channel, p);
  const settings = new SettingWriter(
    db,
    bus,
    { key: d.component, address: d.address, profile: d.profile },
    { clock: o.clock, timeZone: o.timeZone, onBudgetExceeded: (e) => o.onBudgetExceeded?.(e.device, e.day, e.budget) },
  );
  const scaling = { ...DEFAULT_SCALING, wordOrder: d.profile.wordOrder };
  return {
    write: async (channel, value) => {
      const p = points.get(channel);
      if (!p?.writable) throw new Error(`${d.component} has no writable ${channel}`);
      if (p.writable.eeprom) {
        await settings.write(channel, value);
        return;
      }
      const v = Math.min(p.writable.max, Math.max(p.writable.min, Math.round(value / p.scale) * p.scale));
      await bus.writeRegisters(d.address, p.register, encodePoint(p, v, scaling));
    },
  };
}

/**
 * The relays that load shedding opened, kept in SQLite so that a restart during an outage still knows
 * which customers to give back their supply when the grid returns.
 */
export class ShedLedger {
  constructor(private readonly db: Database.Database) {
    db.exec('CREATE TABLE IF NOT EXISTS control_shed_relays (meter INTEGER PRIMARY KEY, opened_ms INTEGER NOT NULL)');
  }

  opened(meter: number, atMs: number): void {
    this.db.prepare('INSERT OR REPLACE INTO control_shed_relays (meter, opened_ms) VALUES (?, ?)').run(meter, atMs);
  }

  restored(meter: number): void {
    this.db.prepare('DELETE FROM control_shed_relays WHERE meter = ?').run(meter);
  }

  has(meter: number): boolean {
    return this.db.prepare('SELECT 1 FROM control_shed_relays WHERE meter = ?').get(meter) !== undefined;
  }

  meters(): number[] {
    return this.db.prepare<[], number>('SELECT meter FROM control_shed_relays ORDER BY meter').pluck().all();
  }
}

/** Who holds a relay the edge cycle opened to shed load (src/governance/relay-claims.ts). */
export const SHED_CLAIM = 'load-shedding';

/**
 * A relay of the site's relay bank (load shedding), with the bank's read-back.
 *
 * These writes are safety actions, not billing disconnects (docs/ems-modes.md#criticality: emergency
 * load shedding is safety-critical), so they pass the wear guard as `safety`: counted, never refused. A
 * shed the guard refused because billing switched that relay ten minutes ago (the 15-minute dwell) or
 * because its daily budget is spent would leave the island carrying a load it cannot, and the inverter
 * trips for everyone. The restore is bounded the other way: it closes only the relays that shedding
 * opened (the ledger), never one that was already open, so a customer billing disconnected for arrears
 * stays disconnected when the grid returns, and neither is one billing disconnected while it was shed.
 * While shedding holds a relay open it claims it (safety), and the disconnect gate does not close it.
 */
export function relayWriter(
  relays: RelayBank,
  meterOf: (component: string) => number | undefined,
  ledger: ShedLedger,
  clock: Clock,
  shared: { readonly claims?: RelayClaims; readonly businessOpen?: (meter: number) => boolean } = {},
): Writer {
  return {
    write: async (channel, value) => {
      const meter = meterOf(channel.split('/')[0] ?? '');
      if (meter === undefined || !relays.has(meter)) throw new Error(`no relay is wired to ${channel}`);
      if (value >= 0.5) {
        // Shedding ends: its claim goes first, so a reconnect billing deferred meanwhile may run.
        shared.claims?.release(meter, SHED_CLAIM);
        if (!ledger.has(meter)) return; // not opened by shedding: billing's to switch, not ours
        // Billing disconnected this customer while the load was shed: the relay stays open.
        if (shared.businessOpen?.(meter)) {
          ledger.restored(meter);
          return;
        }
        const r = await relays.close(meter, { safety: true });
        if (r.after !== 'closed') throw new Error(`relay of meter ${meter} reads ${r.after} after the command`);
        ledger.restored(meter);
        return;
      }
      // Claimed whether or not it was already open: while shedding holds it, billing must not close it.
      shared.claims?.claim(meter, {
        by: SHED_CLAIM,
        criticality: 'safety',
        state: 'open',
        why: `the edge cycle sheds ${channel} (load shedding)`,
        untilMs: null,
      });
      // Recorded before the write, so a relay that opens but fails its read-back is still restored later.
      const before = await relays.state(meter);
      if (before === 'open') return; // already open (billing disconnected it): nothing shed, nothing to restore
      ledger.opened(meter, clock());
      const r = await relays.open(meter, { safety: true });
      if (r.after !== 'open') throw new Error(`relay of meter ${meter} reads ${r.after} after the command`);
    },
  };
}
