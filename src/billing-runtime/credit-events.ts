import type { CreditEvent, CreditEvents } from '../governance/prepaid-loop.js';

type Kind = 'zero' | 'positive' | 'low';

/** governance's CreditEvents port: the prepaid runtime emits, the PrepaidLoop listens. */
export class CreditEventHub implements CreditEvents {
  private readonly listeners: Record<Kind, Array<(e: CreditEvent) => void>> = { zero: [], positive: [], low: [] };
  /** Every event emitted, newest last (bounded), for diagnostics and tests. */
  readonly recent: Array<{ kind: Kind } & CreditEvent> = [];

  onZero(cb: (e: CreditEvent) => void): void {
    this.listeners.zero.push(cb);
  }

  onPositive(cb: (e: CreditEvent) => void): void {
    this.listeners.positive.push(cb);
  }

  onLow(cb: (e: CreditEvent) => void): void {
    this.listeners.low.push(cb);
  }

  emit(kind: Kind, e: CreditEvent): void {
    this.recent.push({ kind, ...e });
    if (this.recent.length > 200) this.recent.shift();
    for (const cb of this.listeners[kind]) cb(e);
  }
}
