import type { StoreDb } from '../store/database.js';

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
 * its gaps. Done in SQL: a day of 10 s polls for 100 meters is 864,000 rows, too many to pull into
 * JavaScript per page view.
 * The first gap starts at the window's start when the meter logged before it; a meter that began
 * within the window is judged from its first reading.
 */
export function completenessSince(db: StoreDb, meterId: number, fromS: number, pollMs: number): Completeness {
  const row = db
    .prepare<{ id: number; from: number; fast: number; slow: number }, { stored: number; missing: number | null; first: number | null; last: number | null }>(
      `WITH r AS (
         SELECT ts FROM readings
         WHERE meter_id = @id AND ts >= coalesce((SELECT max(ts) FROM readings WHERE meter_id = @id AND ts < @from), @from)
       ), g AS (
         SELECT ts, ts - lag(ts) OVER w AS raw, ts - max(lag(ts) OVER w, @from) AS gap FROM r WINDOW w AS (ORDER BY ts)
       ), c AS (
         SELECT ts, gap, lag(raw) OVER w AS prev FROM g WINDOW w AS (ORDER BY ts)
       )
       SELECT count(*) AS stored, min(ts) AS first, max(ts) AS last,
              sum(CASE WHEN gap IS NULL THEN 0
                       WHEN abs(gap - @slow) <= 1 AND coalesce(prev, @slow) >= @slow - 1 THEN 0
                       ELSE max(0, round(gap * 1.0 / @fast) - 1) END) AS missing
       FROM c WHERE ts >= @from`,
    )
    .get({ id: meterId, from: fromS, fast: Math.max(1, pollMs / 1000), slow: Math.max(HISTORY_STEP_MS, pollMs) / 1000 });
  return { stored: row?.stored ?? 0, missing: row?.missing ?? 0, first: row?.first ?? null, last: row?.last ?? null };
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
