import type { SiteConfig } from '../config/site-config.js';
import { openDatabase, type StoreDb } from './database.js';
import { DEFAULT_FLUSH_INTERVAL_MS, ReadingWriter, type FlushResult, type Reading } from './reading-writer.js';
import { buildIntervals, type BuildOptions } from './intervals.js';
import * as history from './history.js';
import { pruneRawReadings, retentionCutoffMs } from './retention.js';
import { intervalsCsv, readingsCsv, type CsvOptions } from './csv-export.js';
import type { IntervalRow } from './interval-calc.js';

export { openDatabase, type StoreDb } from './database.js';
export { ReadingWriter, type Reading, type FlushResult } from './reading-writer.js';
export { counterDelta, accumulateCounter, type CounterOptions } from './counter.js';
export { computeIntervals, INTERVAL_MS, type IntervalRow, type IntervalSample } from './interval-calc.js';
export { buildIntervals, type BuildOptions } from './intervals.js';
export { deleteIntervalsFrom } from './interval-table.js';
export { rawSeries, intervals, dailyEnergy, latestReading, type DailyEnergy, type LatestReading } from './history.js';
export { pruneBatch, pruneRawReadings, retentionCutoffMs } from './retention.js';
export { readingsCsv, intervalsCsv, csvText, READINGS_CSV_HEADER, INTERVALS_CSV_HEADER, type CsvOptions } from './csv-export.js';
export { meterKeys } from './registry.js';

export interface StoreOptions {
  readonly path: string;
  /** The site's IANA zone: days for dailyEnergy and CSV files. */
  readonly timeZone: string;
  readonly rawRetentionDays: number;
  /** 0 = write every reading at once (no batching). */
  readonly flushIntervalMs?: number;
  readonly build?: BuildOptions;
}

export function storeOptionsFrom(cfg: SiteConfig): StoreOptions {
  return { path: cfg.storage.path, timeZone: cfg.site.timezone, rawRetentionDays: cfg.storage.rawRetentionDays, flushIntervalMs: cfg.storage.flushIntervalMs };
}

/** One store file with the site's settings bound in: the recorder writes through it, the API reads. */
export class Store {
  readonly writer: ReadingWriter;

  private constructor(
    readonly db: StoreDb,
    readonly opts: StoreOptions,
  ) {
    this.writer = new ReadingWriter(db);
  }

  static open(opts: StoreOptions): Store {
    return new Store(openDatabase(opts.path), opts);
  }

  add(reading: Reading): void {
    this.writer.add(reading);
    if (this.opts.flushIntervalMs === 0) this.writer.flush();
  }

  /** Flushes on the configured timer; returns the stop function. */
  startAutoFlush(onError?: (err: unknown) => void): () => void {
    const ms = this.opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    return ms > 0 ? this.writer.startAutoFlush(ms, onError) : () => undefined;
  }

  flush(): FlushResult {
    return this.writer.flush();
  }

  /** Builds the intervals that have closed, never past a reading still waiting in the buffer. */
  buildIntervals(nowMs = Date.now()): number {
    return buildIntervals(this.db, Math.min(nowMs, this.writer.oldestPendingMs() ?? nowMs), this.opts.build);
  }

  rawSeries(meter: string, channel: string, fromMs: number, toMs: number): [number, number][] {
    return history.rawSeries(this.db, meter, channel, fromMs, toMs);
  }

  intervals(meter: string, fromMs: number, toMs: number): IntervalRow[] {
    return history.intervals(this.db, meter, fromMs, toMs);
  }

  dailyEnergy(meter: string, fromMs: number, toMs: number): history.DailyEnergy[] {
    return history.dailyEnergy(this.db, meter, fromMs, toMs, this.opts.timeZone);
  }

  latestReading(meter: string): history.LatestReading | undefined {
    return history.latestReading(this.db, meter);
  }

  readingsCsv(meter: string, day: string, opts?: CsvOptions): Generator<string> {
    return readingsCsv(this.db, meter, day, this.opts.timeZone, opts);
  }

  intervalsCsv(meter: string, day: string, opts?: CsvOptions): Generator<string> {
    return intervalsCsv(this.db, meter, day, this.opts.timeZone, opts);
  }

  prune(nowMs = Date.now()): Promise<number> {
    return pruneRawReadings(this.db, retentionCutoffMs(nowMs, this.opts.rawRetentionDays));
  }

  /** Writes what is buffered, then closes the file (even if that write fails). */
  close(): void {
    try {
      this.writer.close();
    } finally {
      this.db.close();
    }
  }
}
