import { alarmCounts } from './alarm-counts.js';
import { h, setText } from './dom.js';

/** A fallback when the stream carries no alarm events. */
const REFRESH_MS = 30_000;

/**
 * The count of open, unacknowledged alarms beside "Alarms" in the nav. Recounted when the stream
 * says an alarm changed, when a page changed one, and every half minute.
 */
export class AlarmBadge {
  private timer: number | undefined;
  private pending: number | undefined;
  private readonly count = h('span', { 'aria-hidden': 'true' });
  private readonly spoken = h('span', { class: 'visually-hidden' });

  constructor(private readonly el: HTMLElement) {
    el.replaceChildren(this.count, this.spoken);
    // Counts fetched by a page (the overview) update the badge too.
    alarmCounts.subscribe((c) => this.timer !== undefined && this.show(c.unacknowledged));
  }

  start(): void {
    this.stop();
    this.refresh();
    this.timer = window.setInterval(() => this.refresh(), REFRESH_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.pending);
    this.show(0);
  }

  /**
   * Recounts soon; several changes in a burst cost one request, and a count a page asked for after
   * the change (the overview's) is shared rather than fetched again (alarm-counts.ts).
   */
  refresh(): void {
    clearTimeout(this.pending);
    const changedAt = performance.now();
    this.pending = window.setTimeout(() => {
      alarmCounts.refresh(performance.now() - changedAt).catch(() => undefined);
    }, 200);
  }

  private show(n: number): void {
    this.el.hidden = n === 0;
    this.el.dataset['count'] = String(n);
    setText(this.count, String(n));
    setText(this.spoken, ` (${n} not acknowledged)`);
  }
}
