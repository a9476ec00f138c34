import { performance } from 'node:perf_hooks';
import { systemClock } from '../util/clock.js';
import { planBlocks, type ReadBlock } from '../drivers/block-plan.js';
import { decodeBlock, type ScalingOptions } from '../drivers/point-codec.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import type { ModbusBus } from './bus.js';
import { DeviceHealth } from './device-health.js';
import { ModbusError } from './modbus-error.js';

export interface PolledDevice {
  /** Component name, e.g. meter12 */
  readonly key: string;
  readonly address: number;
  readonly profile: DeviceProfile;
  readonly functionCode: 3 | 4;
  readonly scaling: ScalingOptions;
}

export interface DeviceReading {
  readonly key: string;
  readonly ts: number;
  readonly values: Record<string, number>;
  /** Per channel: how often it is refreshed (group period), for staleness. */
  readonly periodMs: Record<string, number>;
}

export interface CycleReport {
  readonly bus: string;
  readonly cycle: number;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly requests: number;
  readonly failedDevices: number;
  readonly skippedDevices: number;
  readonly overrun: boolean;
}

export interface PollerSink {
  reading(r: DeviceReading): void;
  /** A failed poll; `channels` are those of the groups that were due in it (the ones it failed to refresh). */
  failure(key: string, ts: number, error: ModbusError, channels: readonly string[]): void;
  cycle?(report: CycleReport): void;
}

interface Slot {
  readonly device: PolledDevice;
  readonly blocks: readonly ReadBlock[];
  readonly health: DeviceHealth;
  /** Staggers slow groups so that not every meter reads its energy block in the same cycle. */
  readonly offset: number;
  /** Until its first good poll a device reads every group, so all its channels show at once. */
  fresh: boolean;
}

/**
 * Polls every device on one bus once per interval, cycles aligned to the wall clock (hh:mm:00, :10, ...).
 * Devices can be added and removed while it runs (hot add, no restart).
 */
export class BusPoller {
  private readonly slots = new Map<string, Slot>();
  private cycle = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopping = false;
  private current: Promise<void> | null = null;
  private nextOffset = 0;

  constructor(
    readonly bus: ModbusBus,
    private readonly intervalMs: number,
    private readonly sink: PollerSink,
    private readonly now: () => number = systemClock,
  ) {}

  addDevice(device: PolledDevice): void {
    this.slots.set(device.key, { device, blocks: planBlocks(device.profile), health: new DeviceHealth(), offset: this.nextOffset++, fresh: true });
  }

  removeDevice(key: string): void {
    this.slots.delete(key);
  }

  devices(): PolledDevice[] {
    return [...this.slots.values()].map((s) => s.device);
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** Runs one cycle now (tests, the one-shot CLI read). */
  async runCycle(): Promise<CycleReport> {
    const n = this.cycle++;
    const startedAt = this.now();
    const t0 = performance.now();
    let requests = 0;
    let failedDevices = 0;
    let skippedDevices = 0;
    const release = this.bus.holdBackground();
    // First full reads are spread: a new device reads every group only while the cycle, at the pace
    // of its devices so far, still ends within 80 % of the interval; otherwise just its due groups,
    // and everything in a later cycle. A start (91 meters at 9600 baud) thus does not overrun.
    const slots = [...this.slots.values()];
    let polled = 0;
    try {
      for (const [i, slot] of slots.entries()) {
        if (this.stopping) break;
        if (!slot.health.due(n)) {
          skippedDevices++;
          continue;
        }
        const elapsed = performance.now() - t0;
        const full = slot.fresh && (polled === 0 || elapsed + (elapsed / polled) * (slots.length - i + 1) <= 0.8 * this.intervalMs);
        polled++;
        const result = await this.pollDevice(slot, n, full);
        requests += result.requests;
        if (!result.ok) failedDevices++;
      }
    } finally {
      release();
    }
    const durationMs = performance.now() - t0;
    const report: CycleReport = {
      bus: this.bus.id,
      cycle: n,
      startedAt,
      durationMs,
      requests,
      failedDevices,
      skippedDevices,
      overrun: durationMs > this.intervalMs,
    };
    this.sink.cycle?.(report);
    return report;
  }

  private async pollDevice(slot: Slot, n: number, full: boolean): Promise<{ ok: boolean; requests: number }> {
    const { device } = slot;
    const values: Record<string, number> = {};
    const periodMs: Record<string, number> = {};
    let requests = 0;
    const due = slot.blocks.filter((block) => full || (n + slot.offset) % block.every === 0);
    for (const block of due) {
      let words: number[] | undefined;
      let attempts = slot.health.retriesAllowed ? 1 + this.bus.config.retries : 1;
      let lastError: ModbusError | undefined;
      while (words === undefined && attempts-- > 0) {
        requests++;
        try {
          words = await this.bus.readRegisters(device.address, device.functionCode, block.start, block.count);
        } catch (e) {
          lastError = e instanceof ModbusError ? e : new ModbusError('frame', String(e));
          // A Modbus exception is a definite answer: retrying the same request cannot help.
          if (lastError.kind === 'exception') break;
        }
      }
      if (words === undefined) {
        slot.health.failed(n);
        // Every group due in this poll failed to refresh, including those read before the failing
        // block (a poll's values are delivered together or not at all); groups not due keep their state.
        const channels = due.flatMap((b) => b.points.map((p) => p.channel));
        this.sink.failure(device.key, this.now(), lastError ?? new ModbusError('frame', 'no data'), channels);
        return { ok: false, requests };
      }
      const decoded = decodeBlock(block, words, device.scaling);
      Object.assign(values, decoded);
      for (const ch of Object.keys(decoded)) periodMs[ch] = block.every * this.intervalMs;
    }
    slot.health.succeeded();
    if (due.length === slot.blocks.length) slot.fresh = false;
    if (Object.keys(values).length > 0) this.sink.reading({ key: device.key, ts: this.now(), values, periodMs });
    return { ok: true, requests };
  }

  private schedule(): void {
    if (!this.running) return;
    const wait = this.intervalMs - (this.now() % this.intervalMs);
    this.timer = setTimeout(() => {
      this.current = this.runCycle()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.current = null;
          this.schedule();
        });
    }, wait);
  }
}
