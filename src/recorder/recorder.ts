import type { StoreDb } from '../store/database.js';
import { systemClock } from '../util/clock.js';
import { archiveCutMs, archiveReadings } from '../store/archive.js';
import { buildIntervals, type BuildOptions } from '../store/intervals.js';
import { intervalMoveCutMs, moveIntervals } from '../store/interval-table.js';
import { ReadingWriter } from '../store/reading-writer.js';
import { pruneRawReadings, retentionCutoffMs } from '../store/retention.js';
import type { DeviceReading } from '../modbus/poller.js';

export interface RecorderOptions {
  /** Readings are written in batches to spare the SD card; a power cut loses at most this much. */
  readonly flushIntervalMs: number;
  readonly rawRetentionDays: number;
  readonly now?: () => number;
  readonly onError?: (what: string, err: unknown) => void;
  /** Each meter's physical limit (W): an interval holding more energy is quarantined, never billed. */
  readonly maxPowerWFor?: (meterKey: string) => number | undefined;
  /**
   * The store is in memory because the disk is full: readings wait in the writer's bounded buffer
   * (the oldest go first) instead of growing the memory store, and are written at stop, just before
   * the store is copied to disk.
   */
  readonly holdUntilStop?: boolean;
}

const RETENTION_EVERY_MS = 6 * 3600 * 1000;

/**
 * Stores every reading (batched), builds 15-minute intervals after each batch lands, and prunes raw
 * readings past their retention. Intervals are kept forever: they are small and billing needs them.
 */
export class Recorder {
  readonly writer: ReadingWriter;
  private flushTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    readonly db: StoreDb,
    private readonly opts: RecorderOptions,
  ) {
    this.writer = new ReadingWriter(db);
    this.now = opts.now ?? systemClock;
  }

  /** Buses whose first poll cycle has ended: that one is flushed at once, not a flush interval later. */
  private readonly cycledBuses = new Set<string>();

  /**
   * A bus finished a poll cycle. After its first one the recorder flushes at once: a process that
   * restarts more often than the flush interval (a crash loop) still records what it read.
   */
  cycleDone(bus: string): void {
    if (this.cycledBuses.has(bus)) return;
    this.cycledBuses.add(bus);
    this.flushAndBuild();
  }

  add(r: DeviceReading): void {
    this.writer.add({ meter: r.key, ts: r.ts, values: r.values });
  }

  start(): void {
    if (this.opts.flushIntervalMs > 0) this.flushTimer = setInterval(() => this.flushAndBuild(), this.opts.flushIntervalMs);
    this.retentionTimer = setInterval(() => void this.prune(), RETENTION_EVERY_MS);
    void this.prune();
  }

  /** Writes buffered readings and builds every interval that has closed. Safe to call any time. */
  flushAndBuild(): void {
    if (this.opts.holdUntilStop && !this.stopping) return;
    try {
      this.writer.flush();
      buildIntervals(this.db, this.writer.oldestPendingMs() ?? this.now(), this.buildOptions);
      // Once an hour the closed hours move from the journal to the chunks.
      archiveReadings(this.db, archiveCutMs(this.now()));
      // Once a day the intervals before yesterday move to their archive (one run of pages per meter).
      moveIntervals(this.db, intervalMoveCutMs(this.now()));
    } catch (e) {
      this.opts.onError?.('flush', e);
    }
  }

  /** How intervals are built (limits per meter); also for building outside the timer. */
  get buildOptions(): BuildOptions {
    return { maxPowerWFor: this.opts.maxPowerWFor };
  }

  async prune(): Promise<number> {
    try {
      return await pruneRawReadings(this.db, retentionCutoffMs(this.now(), this.opts.rawRetentionDays));
    } catch (e) {
      this.opts.onError?.('retention', e);
      return 0;
    }
  }

  private stopping = false;

  stop(): void {
    this.stopping = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.flushAndBuild();
  }
}
