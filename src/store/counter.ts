/** How an energy counter behaves when it goes backwards. */
export interface CounterOptions {
  /**
   * The largest value the counter shows before it wraps to zero (e.g. 999999.99 kWh). Without it,
   * every real backwards step is a fault.
   */
  readonly rollover?: number;
  /**
   * A backwards step this small is measurement noise (kWh). The default is above a float32 step
   * near 1e6 (0.0625) and below any step worth noticing.
   */
  readonly noise?: number;
  /** A wrap is only believed if the energy it implies is below this fraction of the range. */
  readonly maxWrapFraction?: number;
}

export const DEFAULT_COUNTER_NOISE = 0.1;

/**
 * Energy counted between two readings of a cumulative counter, never negative. Forward: the
 * difference. Backward by less than `noise`: 0. Backward near the configured maximum: a rollover,
 * (max - prev) + cur. Any other backward step is a fault (see isCounterFault) and counts 0: a
 * meter replacement is never inferred from it (booking `cur` once charged a customer for a whole
 * counter), it is recorded as an inventory event. Inputs must be finite (NaN propagates).
 */
export function counterDelta(prev: number, cur: number, opts: CounterOptions = {}): number {
  if (Number.isNaN(prev) || Number.isNaN(cur)) return NaN;
  if (cur >= prev) return cur - prev;
  const wrapped = wrapOf(prev, cur, opts);
  return wrapped ?? 0;
}

/** True for a backwards step that is neither noise nor a plausible rollover: its energy is unknown. */
export function isCounterFault(prev: number, cur: number, opts: CounterOptions = {}): boolean {
  if (!(cur < prev)) return false;
  if (prev - cur <= (opts.noise ?? DEFAULT_COUNTER_NOISE)) return false;
  return wrapOf(prev, cur, opts) === undefined;
}

function wrapOf(prev: number, cur: number, opts: CounterOptions): number | undefined {
  if (prev - cur <= (opts.noise ?? DEFAULT_COUNTER_NOISE)) return 0;
  const max = opts.rollover;
  if (max !== undefined && prev <= max && cur >= 0) {
    const wrapped = max - prev + cur;
    if (wrapped <= max * (opts.maxWrapFraction ?? 0.01)) return wrapped;
  }
  return undefined;
}

/**
 * Turns counter readings into a monotonic running total starting at 0, so energy between any two
 * points is a plain difference even across rollovers. After a noise step the reference stays at
 * the higher value, so jitter around a value is not counted again and again. After a fault the
 * reference moves to the new value (the step itself counts 0) and `faults` gets its index.
 */
export function accumulateCounter(values: readonly number[], opts: CounterOptions = {}, faults?: number[]): number[] {
  const out: number[] = [];
  const noise = opts.noise ?? DEFAULT_COUNTER_NOISE;
  let total = 0;
  let ref: number | undefined;
  values.forEach((v, i) => {
    if (ref !== undefined) {
      total += counterDelta(ref, v, opts);
      if (faults && isCounterFault(ref, v, opts)) faults.push(i);
    }
    const isNoise = ref !== undefined && v < ref && ref - v <= noise;
    if (!isNoise) ref = v;
    out.push(total);
  });
  return out;
}
