import type { BusConfig, MeterConfig, SiteConfig } from '../config/site-config.js';
import { systemClock } from '../util/clock.js';
import { ProcessImage } from '../channels/process-image.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { ModbusBus, type BusStats } from '../modbus/bus.js';
import { BusPoller, type CycleReport, type DeviceReading } from '../modbus/poller.js';
import type { ModbusError } from '../modbus/modbus-error.js';
import { meterKey, resolveProfile, toPolledDevice } from './devices.js';
import { controlDevicesOf, routeReading, sunspecDevicesOf, type ControlDevices } from './control-devices.js';
import { SunSpecDevices } from './sunspec-devices.js';
import { LiveFeed } from './live-feed.js';

export interface MeterInfo {
  readonly key: string;
  readonly id: number;
  /** Modbus address on its bus (the id unless configured otherwise). */
  readonly address: number;
  readonly name: string;
  readonly model: string;
  readonly phases: 1 | 3;
  readonly bus: string;
  readonly role: 'main' | 'customer';
  readonly enabled: boolean;
  readonly ctRatio: number;
  readonly ptRatio: number;
  readonly invert: boolean;
}

export interface BusView extends BusStats {
  readonly lastCycleMs: number | null;
  readonly lastCycleRequests: number | null;
  /** Share of the poll interval the line was busy in the last cycle. */
  readonly utilisation: number | null;
  readonly overruns: number;
}

/**
 * A meter's last poll: whether it answered, when, and since when it has been answering (or failing).
 * The offline and not-logging rules judge a meter by this, not by channel qualities (a slow group's
 * channels say nothing about whether the meter answers now).
 */
export interface PollStatus {
  readonly ok: boolean;
  readonly at: number;
  /** Start of the current run of answers (ok) or failures (not ok). */
  readonly since: number;
}

interface BusState {
  last: CycleReport | null;
  overruns: number;
  changed: Set<string>;
}

export interface ReadingSink {
  add(r: DeviceReading): void;
}

/**
 * The running site: its buses, one poller per bus, the process image, and the meter list.
 * Meters can be added and removed while it runs.
 */
export class SiteRuntime {
  readonly image: ProcessImage;
  readonly live = new LiveFeed();
  private readonly buses = new Map<string, { bus: ModbusBus; poller: BusPoller; state: BusState }>();
  private readonly meters = new Map<string, MeterInfo>();
  private readonly lastError = new Map<string, string>();
  private readonly pollStatus = new Map<string, PollStatus>();
  /** Devices the edge cycle steers (control.devices): polled every control period, sub-components mapped. */
  readonly control: ControlDevices;
  /** SunSpec devices of control.devices: scanned at start, read every control period. */
  readonly sunspec: SunSpecDevices;

  constructor(
    readonly config: SiteConfig,
    private readonly profiles: ReadonlyMap<string, DeviceProfile>,
    private readonly sink: ReadingSink,
    readonly now: () => number = systemClock,
  ) {
    this.image = new ProcessImage(now);
    this.control = controlDevicesOf(config, profiles);
    for (const b of config.buses) this.addBus(b, this.control.busIntervalMs(b.id));
    for (const m of config.meters) this.addMeter(m);
    for (const d of this.control.devices) this.buses.get(d.bus)?.poller.addDevice(d.polled);
    this.sunspec = new SunSpecDevices(sunspecDevicesOf(config), (id) => this.bus(id), this.image, now, config.control?.periodMs ?? 1000);
  }

  get intervalMs(): number {
    return this.config.poll.intervalMs;
  }

  addBus(cfg: BusConfig, intervalMs = this.intervalMs): void {
    const bus = new ModbusBus(cfg, this.now);
    const state: BusState = { last: null, overruns: 0, changed: new Set<string>() };
    const poller = new BusPoller(
      bus,
      intervalMs,
      {
        reading: (r) => this.onReading(r, state.changed),
        failure: (key, ts, err, channels) => this.onFailure(key, ts, err, channels, state.changed),
        cycle: (report) => {
          state.last = report;
          if (report.overrun) state.overruns++;
          this.live.publish({ report, changed: [...state.changed] });
          state.changed.clear();
        },
      },
      this.now,
    );
    this.buses.set(cfg.id, { bus, poller, state });
  }

  addMeter(m: MeterConfig): MeterInfo {
    const busId = m.bus ?? this.config.buses[0]?.id;
    const bus = busId ? this.buses.get(busId) : undefined;
    if (!bus) throw new Error(`bus: no bus "${busId ?? ''}" to put meter ${m.id} on`);
    const profile = resolveProfile(m.type, this.profiles);
    const info: MeterInfo = {
      key: meterKey(m),
      id: m.id,
      address: m.address ?? m.id,
      name: m.name,
      model: profile.model,
      phases: profile.phases,
      bus: bus.bus.id,
      role: m.role,
      enabled: m.enabled,
      ctRatio: m.ctRatio,
      ptRatio: m.ptRatio,
      invert: m.invert,
    };
    this.meters.set(info.key, info);
    if (m.enabled) bus.poller.addDevice(toPolledDevice(m, this.profiles));
    return info;
  }

  removeMeter(key: string): void {
    const info = this.meters.get(key);
    if (!info) return;
    this.buses.get(info.bus)?.poller.removeDevice(key);
    this.meters.delete(key);
    this.pollStatus.delete(key);
    this.image.remove(key);
  }

  meterList(): MeterInfo[] {
    return [...this.meters.values()].sort((a, b) => (a.role === b.role ? a.id - b.id : a.role === 'main' ? -1 : 1));
  }

  meter(key: string): MeterInfo | undefined {
    return this.meters.get(key);
  }

  /** The meter at the grid connection point, if one is configured. */
  mainMeter(): MeterInfo | undefined {
    return this.meterList().find((m) => m.role === 'main' && m.enabled);
  }

  lastErrorOf(key: string): string | null {
    return this.lastError.get(key) ?? null;
  }

  /** Null until the meter was polled (or after it was removed). */
  pollStatusOf(key: string): PollStatus | null {
    return this.pollStatus.get(key) ?? null;
  }

  /** Where a bus is plugged in, for messages: the serial device or the gateway's host:port. */
  busPort(id: string): string | null {
    const cfg = this.buses.get(id)?.bus.config;
    if (!cfg) return null;
    return cfg.transport === 'rtu' ? cfg.path : `${cfg.host}:${cfg.port}`;
  }

  busViews(): BusView[] {
    return [...this.buses.values()].map(({ bus, state: { last, overruns } }) => ({
      ...bus.stats(),
      lastCycleMs: last ? Math.round(last.durationMs) : null,
      lastCycleRequests: last ? last.requests : null,
      utilisation: last ? Math.min(1, last.durationMs / this.intervalMs) : null,
      overruns,
    }));
  }

  /** How long the last poll cycle of the buses carrying control devices took (ms; the longest), or undefined before one. */
  controlReadingsMs(): number | undefined {
    let longest: number | undefined;
    for (const [id, { state }] of this.buses)
      if (state.last && this.control.busIntervalMs(id) !== undefined) longest = Math.max(longest ?? 0, state.last.durationMs);
    return longest;
  }

  bus(id: string): ModbusBus | undefined {
    return this.buses.get(id)?.bus;
  }

  pollers(): BusPoller[] {
    return [...this.buses.values()].map((b) => b.poller);
  }

  start(): void {
    for (const b of this.buses.values()) b.poller.start();
    this.sunspec.start();
  }

  async stop(): Promise<void> {
    await this.sunspec.stop();
    for (const b of this.buses.values()) await b.poller.stop();
    for (const b of this.buses.values()) await b.bus.close();
  }

  private onReading(r: DeviceReading, changed: Set<string>): void {
    if (this.control.byKey.has(r.key)) {
      // Control devices live in the process image only (1 s readings are not written to the SD card).
      for (const part of routeReading(this.control, r)) this.image.update(part.component, part.values, r.ts, part.periodMs);
      this.notePoll(r.key, true, r.ts);
      changed.add(r.key);
      return;
    }
    for (const [channel, value] of Object.entries(r.values)) {
      this.image.update(r.key, { [channel]: value }, r.ts, r.periodMs[channel] ?? this.intervalMs);
    }
    this.lastError.delete(r.key);
    this.notePoll(r.key, true, r.ts);
    changed.add(r.key);
    this.sink.add(r);
  }

  private onFailure(key: string, ts: number, err: ModbusError, channels: readonly string[], changed: Set<string>): void {
    if (this.control.byKey.has(key)) for (const [component, names] of this.control.failedChannels(key, channels)) this.image.markFailed(component, ts, names);
    else this.image.markFailed(key, ts, channels);
    this.lastError.set(key, err.message);
    this.notePoll(key, false, ts);
    changed.add(key);
  }

  private notePoll(key: string, ok: boolean, at: number): void {
    const prev = this.pollStatus.get(key);
    this.pollStatus.set(key, { ok, at, since: prev?.ok === ok ? prev.since : at });
  }
}
