import { renderSms, type SmsMessage } from './templates.js';
import { systemClock } from '../util/clock.js';
import { Scheduler } from '../util/scheduler.js';
import type { SmsOutbox } from './sms-outbox.js';
import type { SmsProvider } from './sms-provider.js';

export interface SmsSenderOptions {
  readonly clock?: () => number;
  /** First retry delay; doubles per failed attempt up to maxBackoffMs. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How often the background loop looks for due messages. */
  readonly pollMs?: number;
  /** A gateway call that takes longer counts as failed, so one hung request cannot stall the queue. */
  readonly sendTimeoutMs?: number;
  /** Runs the background loop (job "sms delivery"); by default one of its own. */
  readonly scheduler?: Scheduler;
}

/**
 * Queues SMS messages and delivers them in the background: the caller never waits for the gateway,
 * and a message is retried with exponential back-off until the provider accepts it.
 */
export class SmsSender {
  private readonly now: () => number;
  private stopJob: (() => Promise<void>) | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly outbox: SmsOutbox,
    private readonly provider: SmsProvider,
    private readonly opts: SmsSenderOptions = {},
  ) {
    this.now = opts.clock ?? systemClock;
  }

  /** Stores the message and returns at once; delivery happens on the next pass. */
  notify(to: string, message: SmsMessage): number {
    const id = this.outbox.enqueue(to, message.kind, renderSms(message), this.now());
    if (this.stopJob) void this.deliverDue();
    return id;
  }

  /** One delivery pass over due messages; resolves to how many were sent. Passes never overlap. */
  deliverDue(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  start(): void {
    if (this.stopJob) return;
    const scheduler = this.opts.scheduler ?? new Scheduler({ clock: this.now });
    this.stopJob = scheduler.every('sms delivery', this.opts.pollMs ?? 5000, () => this.deliverDue(), { runNow: true });
  }

  async stop(): Promise<void> {
    const stopJob = this.stopJob;
    this.stopJob = null;
    await stopJob?.();
    await this.running;
  }

  private async pass(): Promise<number> {
    let sent = 0;
    for (const m of this.outbox.due(this.now())) {
      try {
        const { id } = await this.withTimeout(this.provider.send(m.to, m.text));
        this.outbox.sent(m.id, id, this.now());
        sent++;
      } catch (e) {
        const backoff = Math.min((this.opts.baseBackoffMs ?? 30_000) * 2 ** m.attempts, this.opts.maxBackoffMs ?? 3600_000);
        this.outbox.failed(m.id, (e as Error).message, this.now() + backoff);
      }
    }
    return sent;
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.sendTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`SMS gateway did not answer within ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
