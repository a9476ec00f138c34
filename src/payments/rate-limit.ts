import { systemClock, type Clock } from '../util/clock.js';

export interface RateLimit {
  /** Requests one source may send at once after being quiet. */
  readonly burst: number;
  /** Requests per second one source may sustain. */
  readonly perSecond: number;
  /** Sources remembered at most; the least recently seen is forgotten first, so memory stays bounded under a spoofed-address flood. */
  readonly maxSources: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

/**
 * A token bucket per source address, in memory. Public endpoints use it so one source cannot fill the
 * database or the CPU; a restart forgets every bucket, which only ever lets more through, never less.
 */
export class TokenBuckets {
  /** Map order is recency order: a source is re-inserted when seen, so the first key is the stalest. */
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limit.burst >= 1) || !(limit.perSecond > 0) || !(limit.maxSources >= 1))
      throw new Error(`rate limit: burst must be at least 1, perSecond above 0 and maxSources at least 1; found ${JSON.stringify(limit)}`);
  }

  /** Takes one token for `source`, or says how many whole seconds until one is available. */
  take(source: string): Admission {
    const now = this.clock();
    const prev = this.buckets.get(source);
    const elapsedS = prev ? Math.max(0, now - prev.atMs) / 1000 : 0;
    const tokens = prev ? Math.min(this.limit.burst, prev.tokens + elapsedS * this.limit.perSecond) : this.limit.burst;
    this.buckets.delete(source);
    if (tokens < 1) {
      this.buckets.set(source, { tokens, atMs: now });
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / this.limit.perSecond)) };
    }
    this.buckets.set(source, { tokens: tokens - 1, atMs: now });
    while (this.buckets.size > this.limit.maxSources) {
      const stalest = this.buckets.keys().next().value;
      if (stalest === undefined) break;
      this.buckets.delete(stalest);
    }
    return { ok: true };
  }

  get size(): number {
    return this.buckets.size;
  }
}
