import { systemClock, type Clock } from '../util/clock.js';

/**
 * Limits password guesses, for logins and for password changes alike.
 *
 * - An attempt is counted *before* its password is checked, as a failure until it proves otherwise,
 *   so parallel requests cannot all slip through while the first ones are still hashing.
 * - Three counters, each with its own limit: the account from this client (the usual lock-out), the
 *   account from anywhere (guesses spread over many addresses), and the client over all accounts
 *   (one address trying many usernames).
 * - A success clears only what concerns its own account: the account's counters, and its own
 *   provisional count on the client. Logging in to one account never clears guesses at another.
 * - Past the limit a counter locks for 30 s, doubling with every further counted attempt up to 32 min;
 *   a counter that has seen nothing for `forgetAfterMs` starts again from zero.
 */
export interface ThrottlePolicy {
  readonly perAccountClient: number;
  readonly perAccount: number;
  readonly perClient: number;
  readonly firstLockMs: number;
  readonly forgetAfterMs: number;
  /** Counters kept at most; stale ones go first. Bounds memory under a flood of invented usernames. */
  readonly maxCounters: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  perAccountClient: 5,
  perAccount: 20,
  perClient: 20,
  firstLockMs: 30_000,
  forgetAfterMs: 15 * 60_000,
  maxCounters: 10_000,
};

/** Refused before any password was checked. */
export class LoginThrottled extends Error {
  constructor(readonly retryAfterS: number) {
    super(`too many failed attempts; try again in ${retryAfterS} s`);
  }
}

/** The outcome of one counted attempt; report it exactly once. */
export interface LoginAttempt {
  succeeded(): void;
  failed(): void;
}

interface Counter {
  count: number;
  lockedUntil: number;
  lastAt: number;
}

export class LoginThrottle {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
  ) {}

  /** Counts an attempt at `account` from `client`, or throws LoginThrottled if either is locked. */
  begin(account: string, client: string): LoginAttempt {
    const now = this.clock();
    const acct = account.toLowerCase();
    const pairKey = `pair\u0000${acct}\u0000${client}`;
    const accountKey = `account\u0000${acct}`;
    const clientKey = `client\u0000${client}`;
    const keys: Array<[string, number]> = [
      [pairKey, this.policy.perAccountClient],
      [accountKey, this.policy.perAccount],
      [clientKey, this.policy.perClient],
    ];
    const lockedUntil = Math.max(...keys.map(([k]) => this.live(k, now)?.lockedUntil ?? 0));
    if (lockedUntil > now) throw new LoginThrottled(Math.ceil((lockedUntil - now) / 1000));
    this.prune(now);
    for (const [key, limit] of keys) this.count(key, limit, now);
    let reported = false;
    return {
      failed: () => {
        reported = true;
      },
      succeeded: () => {
        if (reported) return;
        reported = true;
        this.counters.delete(pairKey);
        this.counters.delete(accountKey);
        this.uncount(clientKey, this.policy.perClient);
      },
    };
  }

  private live(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && c.lockedUntil <= now && now - c.lastAt > this.policy.forgetAfterMs) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  private count(key: string, limit: number, now: number): void {
    const c = this.live(key, now) ?? { count: 0, lockedUntil: 0, lastAt: now };
    c.count++;
    c.lastAt = now;
    if (c.count >= limit) c.lockedUntil = now + this.policy.firstLockMs * 2 ** Math.min(c.count - limit, 6);
    this.counters.delete(key); // re-inserted last: the Map's order is then oldest activity first
    this.counters.set(key, c);
  }

  /** Takes back a success's provisional count; lifts a lock only if that count was what set it. */
  private uncount(key: string, limit: number): void {
    const c = this.counters.get(key);
    if (!c) return;
    c.count = Math.max(0, c.count - 1);
    if (c.count < limit) c.lockedUntil = 0;
  }

  private prune(now: number): void {
    if (this.counters.size < this.policy.maxCounters) return;
    for (const key of [...this.counters.keys()]) this.live(key, now);
    // Still full of fresh counters: drop the ones idle longest, but never a lock that still holds.
    for (const [key, c] of this.counters) {
      if (this.counters.size < this.policy.maxCounters) break;
      if (c.lockedUntil <= now) this.counters.delete(key);
    }
  }
}
