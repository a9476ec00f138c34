import type { StoreDb } from '../store/database.js';
import { readingTimes } from '../store/reading-rows.js';

/**
 * The slowest regular cadence the store holds besides live polling: the demo's history is recorded
 * at 1-minute steps (recorder/simulated-history.ts). Spans at this spacing are judged against it.
 */
export const HISTORY_STEP_MS = 60_000;

export interface Completeness {
  /** Readings stored in the window. */
  readonly stored: number;
  /** Readings the cadence in force would have produced but that are missing. */
  readonly missing: number;
  readonly first: number | null;
  readonly last: number | null;
}

/**
 * Completeness against the rate in force at the time, not against today's poll interval. A gap of
 * one history step (HISTORY_STEP_MS, within a second) that follows another such step or starts the
 * record is recorded history at its own rate and misses nothing. Every other gap g is live polling
 * and misses round(g / poll interval) - 1 readings. Only an exact one-step spacing counts as history
 * so that a meter answering every 80 s, or once in six polls after a run of good ones, still shows
 * its gaps. Only timestamps are read (chunk headers are not compressed), never the values: a day of
 * 10 s polls for 100 meters is 864,000 of them.
 * The first gap starts at the window's start when the meter logged before it; a meter that began
 * within the window is judged from its first reading.
 */
export function completenessSince(db: StoreDb, meterId: number, fromS: number, pollMs: number): Completeness {
  // The times alone, from the journal and the hourly chunks' uncompressed headers: the last
  // one before the window (ORDER BY ts DESC LIMIT 1, never max() over everything), then the window.
  const before = readingTimes(db, meterId, { toS: fromS, desc: true, limit: 1 });
  const times = [...before, ...readingTimes(db, meterId, { fromS })];
  const fast = Math.max(1, pollMs / 1000);
  const slow = Math.max(HISTORY_STEP_MS, pollMs) / 1000;
  let stored = 0;
  let missing = 0;
  let first: number | null = null;
  let last: number | null = null;
  let prevRaw: number | null = null;
  for (let i = 0; i < times.length; i++) {
    const ts = times[i] as number;
    const lag = i > 0 ? (times[i - 1] as number) : null;
    const raw = lag === null ? null : ts - lag;
    if (ts >= fromS) {
      stored++;
      first ??= ts;
      last = ts;
      if (lag !== null) {
        const gap = ts - Math.max(lag, fromS);
        const history = Math.abs(gap - slow) <= 1 && (prevRaw ?? slow) >= slow - 1;
        if (!history) missing += Math.max(0, Math.round(gap / fast) - 1);
      }
    }
    prevRaw = raw;
  }
  return { stored, missing, first, last };
}

/**
 * Share of expected readings stored, 0..1. The time since the last stored reading counts as missing
 * polls only beyond `graceMs` (readings reach the database in batches, every flush interval).
 */
export function completenessShare(c: Completeness, nowMs: number, pollMs: number, graceMs: number): number {
  if (c.stored === 0 || c.last === null) return 0;
  const tail = Math.max(0, Math.floor((nowMs - c.last * 1000 - graceMs) / pollMs));
  return Math.min(1, c.stored / (c.stored + c.missing + tail));
}
