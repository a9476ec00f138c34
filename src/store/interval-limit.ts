/** The time a counter difference was taken over: the interval, or longer when it closes a gap. */
export interface Span {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The counters' resolution (0.01 kWh on CHINT meters): a difference can be off by one step. */
const COUNTER_STEP_KWH = 0.01;
const MS_PER_HOUR = 3_600_000;

/**
 * The most energy a meter of maxPowerW can count over a span (kWh). A span longer than the interval
 * (a meter catching up after a gap) may hold that much more: the limit is physical, not per row.
 */
export function maxEnergyKWh(maxPowerW: number, span: Span): number {
  return (maxPowerW * (span.toMs - span.fromMs)) / MS_PER_HOUR / 1000 + COUNTER_STEP_KWH;
}

/** A reason to quarantine when kWh is more than the meter can measure; none without a limit. */
export function limitFinding(what: string, kWh: number | null, span: Span, maxPowerW: number | undefined): string[] {
  if (kWh === null || maxPowerW === undefined) return [];
  const max = maxEnergyKWh(maxPowerW, span);
  if (kWh <= max) return [];
  const minutes = Math.round((span.toMs - span.fromMs) / 60_000);
  return [`${kWh.toFixed(2)} kWh ${what} in ${minutes} min is more than the meter can measure (at most ${max.toFixed(2)} kWh at ${Math.round(maxPowerW)} W)`];
}
