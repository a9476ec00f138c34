import { alarmsApi, needsAttention } from './alarms-api.js';

/** How many alarms are open, and how many of them nobody has acknowledged yet. */
export interface AlarmCounts {
  readonly open: number;
  readonly unacknowledged: number;
}

interface Flight {
  readonly startedAt: number;
  readonly answer: Promise<AlarmCounts>;
}

/**
 * The one place the UI gets its open-alarm counts (the nav badge, the overview tile). A call that
 * carries the counts anyway (the operator overview) is handed in with supply(), and a refresh made
 * while such a call is on its way, or soon after it answered, shares it instead of asking
 * /api/alarms?state=open again: a cold overview costs one request for the counts, not two.
 */
class OpenAlarmCounts {
  private flight: Flight | null = null;
  private last: { at: number; counts: AlarmCounts } | null = null;
  private readonly listeners = new Set<(c: AlarmCounts) => void>();

  /** Calls `fn` with every new count; returns the unsubscribe function. */
  subscribe(fn: (c: AlarmCounts) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Counts arriving with another call (the operator overview); refreshes started after it share it. */
  supply(answer: Promise<AlarmCounts>): void {
    void this.track(answer); // the supplier handles its own call's failure
  }

  /**
   * The counts, fetched unless a call started at most `maxAgeMs` ago is on its way or answered:
   * 0 after an alarm changed (only a call started after the change counts), more for a first look.
   */
  refresh(maxAgeMs = 0): Promise<AlarmCounts> {
    const now = performance.now();
    if (this.flight && now - this.flight.startedAt <= maxAgeMs) return this.flight.answer;
    if (this.last && now - this.last.at <= maxAgeMs) return Promise.resolve(this.last.counts);
    return this.track(alarmsApi.list('open').then((r) => ({ open: r.alarms.length, unacknowledged: r.alarms.filter(needsAttention).length })));
  }

  private track(answer: Promise<AlarmCounts>): Promise<AlarmCounts> {
    const flight: Flight = { startedAt: performance.now(), answer };
    this.flight = flight;
    answer.then(
      (counts) => {
        if (this.flight === flight) this.flight = null;
        if (this.last && this.last.at > flight.startedAt) return; // a newer call answered first
        this.last = { at: flight.startedAt, counts };
        for (const fn of this.listeners) fn(counts);
      },
      () => {
        if (this.flight === flight) this.flight = null;
      },
    );
    return answer;
  }
}

export const alarmCounts = new OpenAlarmCounts();
