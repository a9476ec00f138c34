import type { ProcessImage } from '../channels/process-image.js';
import type { ModbusBus } from '../modbus/bus.js';
import { inverterChannels, meterChannels } from '../sunspec/channels.js';
import { SunSpecClient, type LimitReadback } from '../sunspec/client.js';
import type { DecodedModel } from '../sunspec/codec.js';
import type { SunSpecDeviceConfig } from '../sunspec/sunspec-config.js';
import type { Clock } from '../util/clock.js';

/**
 * The SunSpec devices of `control.devices` in the running site (docs/sunspec.md "In the site"): each
 * is scanned once (again after a failure until it answers), then every control period its
 * measurement and control models are read, one block per model, into the process image: inverter
 * models (10x/11x or 701, 123/704, 802) under the device's component, a meter model (20x) under
 * `meter`. Nameplate and settings (120, 121, 702) are read at the scan only: they give WMax, which
 * turns a limit in W into the percentage the device takes.
 */
const INVERTER = [101, 102, 103, 111, 112, 113, 701];
const CONTROL = [123, 704, 802];
const STATIC = [120, 121, 702];
const METER = [201, 202, 203, 204];

interface Device {
  readonly cfg: SunSpecDeviceConfig;
  readonly client: SunSpecClient;
  scanned: boolean;
  readonly fixed: Map<number, DecodedModel>;
  /** Every model of the last good read (nameplate and settings included), for the utility's reports. */
  last: ReadonlyMap<number, DecodedModel>;
  lastError: string | null;
}

export interface SunSpecDeviceStatus {
  readonly component: string;
  readonly scanned: boolean;
  readonly models: readonly number[];
  readonly wMax: number | null;
  readonly lastError: string | null;
}

export class SunSpecDevices {
  private readonly devices = new Map<string, Device>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    configs: readonly SunSpecDeviceConfig[],
    bus: (id: string) => ModbusBus | undefined,
    private readonly image: ProcessImage,
    private readonly clock: Clock,
    readonly periodMs: number,
  ) {
    for (const cfg of configs) {
      const line = bus(cfg.bus);
      if (!line) throw new Error(`control.devices: SunSpec device ${cfg.component} is on bus "${cfg.bus}", which is not defined`);
      this.devices.set(cfg.component, {
        cfg,
        client: new SunSpecClient(line, cfg.address, { priority: 'poll' }),
        scanned: false,
        fixed: new Map(),
        last: new Map(),
        lastError: null,
      });
    }
  }

  get size(): number {
    return this.devices.size;
  }

  components(): string[] {
    return [...this.devices.values()].flatMap((d) => [d.cfg.component, ...(d.cfg.meter ? [d.cfg.meter] : [])]);
  }

  start(): void {
    if (this.devices.size === 0) return;
    const tick = (): void => {
      this.running ??= this.readAll().finally(() => (this.running = null));
    };
    tick();
    this.timer = setInterval(tick, this.periodMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  status(): SunSpecDeviceStatus[] {
    return [...this.devices.values()].map((d) => ({
      component: d.cfg.component,
      scanned: d.scanned,
      models: d.client.scanResult?.models.map((m) => m.id) ?? [],
      wMax: this.wMax(d) ?? null,
      lastError: d.lastError,
    }));
  }

  /** The models of the device whose inverter is `component` as last read (empty before its first good read). */
  models(component: string): ReadonlyMap<number, DecodedModel> {
    return this.devices.get(component)?.last ?? new Map();
  }

  /** The config of the device whose inverter is `component`. */
  device(component: string): SunSpecDeviceConfig | undefined {
    return this.devices.get(component)?.cfg;
  }

  /**
   * Limits the inverter to `watts` (of WMax), with the revert time of its config in control periods,
   * and returns the read-back (ok false with the differences when the device holds something else).
   */
  async setLimitW(component: string, watts: number): Promise<LimitReadback> {
    const d = this.devices.get(component);
    if (!d) throw new Error(`no SunSpec device ${component}`);
    const wMax = this.wMax(d);
    if (!d.scanned || wMax === undefined || wMax <= 0) throw new Error(`${component}: not scanned yet, or no WMax (120/121/702)`);
    const pct = Math.min(100, Math.max(0, (watts / wMax) * 100));
    const revertS = Math.ceil((d.cfg.revertPeriods * this.periodMs) / 1000);
    return d.client.setActivePowerLimitPct(Math.round(pct * 100) / 100, { revertS });
  }

  private wMax(d: Device): number | undefined {
    const n = (id: number, p: string): number | undefined => {
      const v = d.fixed.get(id)?.values[p];
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    };
    return n(702, 'WMax') ?? n(121, 'WMax') ?? n(120, 'WRtg');
  }

  private async readAll(): Promise<void> {
    for (const d of this.devices.values()) await this.readOne(d);
  }

  private async readOne(d: Device): Promise<void> {
    const c = d.client;
    const inverterComp = d.cfg.component;
    const meterComp = d.cfg.meter ?? d.cfg.component;
    try {
      if (!d.scanned) {
        const scan = await c.scan();
        for (const h of scan.models) if (STATIC.includes(h.id) && h.known) d.fixed.set(h.id, await c.readModel(h.id));
        d.scanned = true;
      }
      const ids = new Set(c.scanResult?.models.filter((m) => m.known).map((m) => m.id) ?? []);
      const models = new Map<number, DecodedModel>(d.fixed);
      for (const id of [...INVERTER, ...CONTROL, ...METER]) if (ids.has(id)) models.set(id, await c.readModel(id));
      d.last = models;
      const now = this.clock();
      const inv = inverterChannels(models);
      if (Object.keys(inv).length) this.image.update(inverterComp, inv, now, this.periodMs);
      const meter = METER.map((id) => models.get(id)).find((m) => m);
      if (meter) this.image.update(meterComp, meterChannels(meter, { invertPower: d.cfg.invertMeter }), now, this.periodMs);
      d.lastError = null;
    } catch (e) {
      d.lastError = e instanceof Error ? e.message : String(e);
      const now = this.clock();
      this.image.markFailed(inverterComp, now);
      if (meterComp !== inverterComp) this.image.markFailed(meterComp, now);
    }
  }
}
