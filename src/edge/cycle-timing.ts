/** Cycle timing figures: duration and start jitter (actual start - scheduled start), p50/p99 over a window. */
export interface TimingSummary {
  readonly cycles: number;
  readonly overruns: number;
  /** Cycles a step in a fresh reading started before their slot (step-trigger.ts); their jitter is from that reading. */
  readonly early: number;
  readonly durationMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly jitterMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const pct = (sorted: readonly number[], p: number): number => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) : 0);
const round = (x: number): number => Math.round(x * 100) / 100;

export class CycleTiming {
  private readonly durations: number[] = [];
  private readonly jitters: number[] = [];
  private readonly listeners = new Set<(durationMs: number, jitterMs: number) => void>();
  cycles = 0;
  overruns = 0;
  early = 0;

  constructor(private readonly window = 600) {}

  /** Every cycle's figures as they happen (the Prometheus histograms); returns the unsubscribe. */
  subscribe(listener: (durationMs: number, jitterMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(durationMs: number, jitterMs: number, overrun: boolean, early = false): void {
    for (const l of this.listeners) l(durationMs, jitterMs);
    this.cycles++;
    if (early) this.early++;
    if (overrun) this.overruns++;
    this.durations.push(durationMs);
    this.jitters.push(jitterMs);
    if (this.durations.length > this.window) this.durations.shift();
    if (this.jitters.length > this.window) this.jitters.shift();
  }

  summary(): TimingSummary {
    const d = [...this.durations].sort((a, b) => a - b);
    const j = [...this.jitters].sort((a, b) => a - b);
    return {
      cycles: this.cycles,
      overruns: this.overruns,
      early: this.early,
      durationMs: { p50: round(pct(d, 0.5)), p99: round(pct(d, 0.99)), max: round(d.at(-1) ?? 0) },
      jitterMs: { p50: round(pct(j, 0.5)), p99: round(pct(j, 0.99)), max: round(j.at(-1) ?? 0) },
    };
  }
}
