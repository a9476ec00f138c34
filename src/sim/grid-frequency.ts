/**
 * The utility's frequency as the simulated site sees it (issue 10 items 4 and 5: frequency droop needs a
 * grid whose frequency can leave 50 Hz). Nominal is 50 Hz with a slow wander of a few tens of mHz (the
 * site physics); a test or a demo pins it, or plays a scripted excursion: points of (time after the
 * start, Hz), linear in between, the first value before the first point and the last one after the end.
 */
export const NOMINAL_HZ = 50;
/** What a setting may ask for: a real grid trips its generators long before 45 or 55 Hz. */
export const MIN_HZ = 45;
export const MAX_HZ = 55;

export interface FrequencyPoint {
  /** Time after the start of the excursion (ms). */
  readonly afterMs: number;
  readonly hz: number;
}

export interface FrequencyExcursion {
  /** Simulated time the excursion started (ms). */
  readonly startMs: number;
  /** In increasing afterMs. */
  readonly points: readonly FrequencyPoint[];
}

export function excursionHz(e: FrequencyExcursion, tMs: number): number {
  const t = tMs - e.startMs;
  const first = e.points[0];
  if (!first) return NOMINAL_HZ;
  if (t <= first.afterMs) return first.hz;
  for (let i = 1; i < e.points.length; i++) {
    const a = e.points[i - 1] ?? first;
    const b = e.points[i] ?? first;
    if (t <= b.afterMs) return b.afterMs === a.afterMs ? b.hz : a.hz + ((b.hz - a.hz) * (t - a.afterMs)) / (b.afterMs - a.afterMs);
  }
  return e.points.at(-1)?.hz ?? NOMINAL_HZ;
}
