import type uPlot from 'uplot';

export type Points = ReadonlyArray<readonly [number, number | null]>;

/**
 * Puts several channels' readings on one time axis for uPlot. A missing sample at a shared
 * timestamp is `undefined` (uPlot draws across it); a silence longer than `maxGapMs` gets an
 * explicit `null` so an outage shows as a break in the line instead of a straight ramp.
 */
export function alignSeries(lists: Points[], maxGapMs: number, scale: (v: number) => number = (v) => v): uPlot.AlignedData {
  const only = lists.length === 1 ? lists[0] : undefined;
  if (only) return single(only, maxGapMs, scale);
  const withBreaks = lists.map((pts) => {
    const out: Array<readonly [number, number | null]> = [];
    let prev: number | null = null;
    for (const p of pts) {
      if (prev !== null && p[0] - prev > maxGapMs) out.push([prev + 1, null]);
      out.push(p);
      prev = p[0];
    }
    return out;
  });
  const xs = [...new Set(withBreaks.flatMap((pts) => pts.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = withBreaks.map((pts) => {
    const y: Array<number | null | undefined> = new Array<number | null | undefined>(xs.length).fill(undefined);
    for (const [t, v] of pts) {
      const i = index.get(t);
      if (i !== undefined) y[i] = v === null ? null : scale(v);
    }
    return y;
  });
  return [xs, ...ys];
}

/** Evenly spaced slots (every 15 min, every day) so bars have a steady width even with few values. */
export function slotted(slots: number[], values: Map<number, Array<number | null>>, seriesCount: number): uPlot.AlignedData {
  const ys = Array.from({ length: seriesCount }, (_, s) => slots.map((x) => values.get(x)?.[s] ?? null));
  return [slots, ...ys];
}

/** One channel needs no joining: a straight pass, cheap enough to redo on every live update. */
function single(pts: Points, maxGapMs: number, scale: (v: number) => number): uPlot.AlignedData {
  const xs: number[] = [];
  const ys: Array<number | null> = [];
  let prev: number | null = null;
  for (const [t, v] of pts) {
    if (prev !== null && t - prev > maxGapMs) {
      xs.push(prev + 1);
      ys.push(null);
    }
    xs.push(t);
    ys.push(v === null ? null : scale(v));
    prev = t;
  }
  return [xs, ys];
}
