/**
 * The one source of time for the whole system. Every module that needs "now" takes a Clock; only
 * `systemClock` reads the machine's clock. Tests inject one clock into startSystem and everything
 * (poller, recorder, billing, governance, audit log, API, UI via the server's time) follows it.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock that starts at `startMs` and runs at real speed from there (tests pick a day and hour). */
export function clockStartingAt(startMs: number, base: Clock = systemClock): Clock {
  const offset = startMs - base();
  return () => base() + offset;
}

/** A clock held still until moved by hand (pure unit tests). */
export function manualClock(startMs: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = startMs;
  const c = (() => now) as Clock & { set(ms: number): void; advance(ms: number): void };
  c.set = (ms) => {
    now = ms;
  };
  c.advance = (ms) => {
    now += ms;
  };
  return c;
}
