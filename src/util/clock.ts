/**
 * The one source of time for the whole system. Every module that needs "now" takes a Clock; only
 * `systemClock` reads the machine's clock. Tests inject one clock into startSystem and everything
 * (poller, recorder, billing, governance, audit log, API, UI via the server's time) follows it.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock running at real speed that can be moved to another instant (a test's "next morning"). */
export interface MovableClock {
  (): number;
  moveTo(ms: number): void;
}

/** A clock that starts at `startMs` and runs at real speed from there (tests pick a day and hour). */
export function clockStartingAt(startMs: number, base: Clock = systemClock): MovableClock {
  let offset = startMs - base();
  const c = (() => base() + offset) as MovableClock;
  c.moveTo = (ms) => {
    offset = ms - base();
  };
  return c;
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
