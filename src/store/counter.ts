/** How an energy counter behaves when it goes backwards. */
export interface CounterOptions {
  /**
   * The largest value the counter shows before it wraps to zero (e.g. 999999.99 kWh). Without it,
   * every real backwards step is a reset.
   */
  readonly rollover?: number;
  /**
   * A backwards step this small is measurement noise, not a reset (kWh). The default is above a
   * float32 step near 1e6 (0.0625) and below any reset worth noticing.
   */
  readonly noise?: number;
  /** A wrap is only believed if the energy it implies is below this fraction of the range. */
  readonly maxWrapFraction?: number;
}

export const DEFAULT_COUNTER_NOISE = 0.1;

/**
 * Energy counted between two readings of a cumulative counter, never negative. Forward: the
 * difference. Backward by less than `noise`: 0. Backward near the configured maximum: a rollover,
 * (max - prev) + cur. Any other backward step: the meter was replaced or cleared and counts from 0,
 * so the energy is cur. Inputs must be finite (NaN propagates, so misuse shows).
 */
export function counterDelta(prev: number, cur: number, opts: CounterOptions = {}): number {
  if (Number.isNaN(prev) || Number.isNaN(cur)) return NaN;
  if (cur >= prev) return cur - prev;
  if (prev - cur <= (opts.noise ?? DEFAULT_COUNTER_NOISE)) return 0;
  const max = opts.rollover;
  if (max !== undefined && prev <= max && cur >= 0) {
    const wrapped = max - prev + cur;
    if (wrapped <= max * (opts.maxWrapFraction ?? 0.01)) return wrapped;
  }
  return Math.max(cur, 0);
}

/**
 * Turns counter readings into a monotonic running total starting at 0, so energy between any two
 * points is a plain difference even across resets and rollovers. After a noise step the reference
 * stays at the higher value, so jitter around a value is not counted again and again.
 */
export function accumulateCounter(values: readonly number[], opts: CounterOptions = {}): number[] {
  const out: number[] = [];
  const noise = opts.noise ?? DEFAULT_COUNTER_NOISE;
  let total = 0;
  let ref: number | undefined;
  for (const v of values) {
    if (ref !== undefined) total += counterDelta(ref, v, opts);
    const isNoise = ref !== undefined && v < ref && ref - v <= noise;
    if (!isNoise) ref = v;
    out.push(total);
  }
  return out;
}
