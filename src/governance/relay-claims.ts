import { outranks, type CriticalityClass } from './actions.js';

/** A more critical capability holding a customer's relay in one state (load shedding, an operator override). */
export interface RelayClaim {
  readonly by: string;
  readonly criticality: CriticalityClass;
  readonly state: 'open' | 'closed';
  readonly why: string;
  /** Unix ms when the claim lapses by itself (an override's end), or null until released. */
  readonly untilMs: number | null;
}

/**
 * Who holds each customer relay above business (issue 10 item 8: safety outranks business). The edge
 * cycle and the disconnect gate switch the same relays through different paths; the cycle records here
 * what it holds, and the gate asks before it writes. In memory: after a restart the cycle claims again
 * on its first shed, and the gate's writes are read back either way.
 */
export class RelayClaims {
  private readonly claims = new Map<number, RelayClaim>();
  private readonly listeners = new Set<(meter: number) => void>();

  claim(meter: number, c: RelayClaim): void {
    this.claims.set(meter, c);
  }

  /** Ends a claim (only its holder's); the listeners then run deferred business switches. */
  release(meter: number, by: string): boolean {
    if (this.claims.get(meter)?.by !== by) return false;
    this.claims.delete(meter);
    for (const f of this.listeners) f(meter);
    return true;
  }

  /** The claim in force on a meter's relay at `nowMs`, if any (a lapsed one is dropped). */
  holder(meter: number, nowMs: number): RelayClaim | undefined {
    const c = this.claims.get(meter);
    if (c?.untilMs != null && nowMs >= c.untilMs) {
      this.claims.delete(meter);
      return undefined;
    }
    return c;
  }

  /** The claim that outranks an action of class `cls` wanting the relay `want`, or null. */
  blocking(meter: number, want: 'open' | 'closed', cls: CriticalityClass, nowMs: number): RelayClaim | null {
    const c = this.holder(meter, nowMs);
    return c && c.state !== want && outranks(c.criticality, cls) ? c : null;
  }

  /** Meters with a claim (for the periodic re-check of deferred switches). */
  meters(): number[] {
    return [...this.claims.keys()];
  }

  onRelease(f: (meter: number) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
}

/**
 * Why an action of class `cls` may not switch this relay now, in one sentence naming who holds it
 * (the 409 answer and the audit entry): "supply-disconnect (business) is outranked by load-shedding
 * (safety), which holds relay2 open until released: …".
 */
export function claimSentence(meter: number, c: RelayClaim, capability: string, cls: CriticalityClass): string {
  const until = c.untilMs === null ? ' until it releases it' : ` until ${new Date(c.untilMs).toISOString()}`;
  return `${capability} (${cls}) is outranked by ${c.by} (${c.criticality}), which holds relay${meter} ${c.state}${until}: ${c.why}`;
}
