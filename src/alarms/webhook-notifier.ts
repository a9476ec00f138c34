import type { Outbox } from './outbox.js';
import { systemClock } from '../util/clock.js';
import { SIGNATURE_HEADER, signBody } from './webhook-message.js';

export interface WebhookTarget {
  readonly url: string;
  readonly secret?: string;
}

export interface WebhookOptions {
  /** First retry delay; it doubles per failed attempt up to maxRetryMs. */
  readonly retryBaseMs?: number;
  readonly maxRetryMs?: number;
  readonly timeoutMs?: number;
  /** Back-off runs on real time even when the alarm engine's clock is a test's. */
  readonly now?: () => number;
  readonly onError?: (what: string, err: unknown) => void;
}

/**
 * Delivers the outbox to one URL in the background, in order, retrying with exponential back-off
 * until the receiver answers 2xx. Nothing here runs inside the poll loop: kick() only sets a timer.
 */
export class WebhookNotifier {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private readonly retryBaseMs: number;
  private readonly maxRetryMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly outbox: Outbox,
    private readonly target: WebhookTarget,
    private readonly opts: WebhookOptions = {},
  ) {
    this.now = opts.now ?? systemClock;
    this.retryBaseMs = opts.retryBaseMs ?? 5_000;
    this.maxRetryMs = opts.maxRetryMs ?? 10 * 60_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Something was queued (or is left from before a restart): deliver soon. */
  kick(): void {
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** Delivers every message that is due, in order; stops at the first failure. Returns how many were delivered. */
  async deliverDue(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run();
    try {
      return await this.running;
    } finally {
      this.running = null;
      // After stop() the database may be closing: leave the outbox alone.
      if (!this.stopped) this.scheduleNext();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  /** Right away if more was queued meanwhile, else when the head's back-off ends. */
  private scheduleNext(): void {
    if (this.again) {
      this.again = false;
      this.schedule(0);
      return;
    }
    const head = this.outbox.head();
    if (head) this.schedule(head.nextAt - this.now());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.deliverDue().catch((e: unknown) => this.opts.onError?.('webhook delivery', e));
      },
      Math.max(0, delayMs),
    );
  }

  private async run(): Promise<number> {
    let delivered = 0;
    while (!this.stopped) {
      const head = this.outbox.head();
      if (!head || head.nextAt > this.now()) break;
      const error = await this.post(head.body);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the await
      if (this.stopped) break;
      if (error === null) {
        this.outbox.delivered(head.id);
        delivered++;
        continue;
      }
      this.outbox.failed(head.id, error, this.now() + Math.min(this.maxRetryMs, this.retryBaseMs * 2 ** head.attempts));
      this.opts.onError?.(`webhook to ${this.target.url} (attempt ${head.attempts + 1})`, new Error(error));
      break;
    }
    return delivered;
  }

  /** null when the receiver took it, otherwise why not. */
  private async post(body: string): Promise<string | null> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'mgos-alarms' };
    if (this.target.secret) headers[SIGNATURE_HEADER] = signBody(this.target.secret, body);
    try {
      const res = await fetch(this.target.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      await res.arrayBuffer(); // drain, so the connection can be reused
      return res.ok ? null : `HTTP ${res.status} ${res.statusText}`;
    } catch (e) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause.
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      return e instanceof Error ? `${e.message}${cause}` : String(e);
    }
  }
}
