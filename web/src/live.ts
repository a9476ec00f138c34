import type { Overview, ValuesEvent } from './types.js';

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveHandlers {
  values(e: ValuesEvent): void;
  overview(o: Overview): void;
  state(s: LinkState): void;
  /** Any of EXTRA_EVENTS, parsed but not yet checked: the page that cares knows its shape. */
  event(name: string, data: unknown): void;
  /** The stream failed for good: lets the app check whether the session expired. */
  failed(): void;
}

const MAX_BACKOFF_MS = 30_000;

/** Stream events beyond values/overview: a bus scan's progress, an alarm raised, cleared or acknowledged. */
const EXTRA_EVENTS = ['scan', 'alarm'] as const;

/**
 * The /api/stream subscription. EventSource retries by itself after a dropped connection,
 * but gives up on an HTTP error, and a half-open link on a mobile network can hang silently:
 * so a watchdog and our own back-off cover both.
 */
export class LiveStream {
  private es: EventSource | null = null;
  private retryTimer: number | undefined;
  private watchdog: number | undefined;
  private backoffMs = 1000;
  private stopped = true;

  constructor(
    private readonly handlers: LiveHandlers,
    private readonly silenceMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    window.addEventListener('online', this.kick);
    document.addEventListener('visibilitychange', this.kick);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.kick);
    document.removeEventListener('visibilitychange', this.kick);
    this.close();
    clearTimeout(this.retryTimer);
  }

  /** Back on the network or back in view: reconnect now rather than after the back-off. */
  private readonly kick = (): void => {
    if (this.stopped || document.visibilityState === 'hidden') return;
    if (!this.es || this.es.readyState === EventSource.CLOSED) {
      clearTimeout(this.retryTimer);
      this.backoffMs = 1000;
      this.connect();
    }
  };

  private connect(): void {
    this.close();
    this.handlers.state(this.backoffMs > 1000 ? 'reconnecting' : 'connecting');
    const es = new EventSource('/api/stream');
    this.es = es;
    es.onopen = () => {
      this.backoffMs = 1000;
      this.handlers.state('live');
      this.feedWatchdog();
    };
    es.addEventListener('values', (ev) => this.receive(ev, (d) => this.handlers.values(d as ValuesEvent)));
    es.addEventListener('overview', (ev) => this.receive(ev, (d) => this.handlers.overview(d as Overview)));
    for (const name of EXTRA_EVENTS) es.addEventListener(name, (ev) => this.receive(ev, (d) => this.handlers.event(name, d)));
    // The server ends the stream when its session ends (logout, password change). retryLater has the
    // app check the session (failed), which shows the sign-in page on 401 and stops this stream; if
    // the browser has a new session meanwhile (signed in again in another tab), it simply reconnects.
    es.addEventListener('session-ended', () => this.retryLater());
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) this.retryLater();
      else this.handlers.state('reconnecting');
    };
  }

  private receive(ev: Event, deliver: (data: unknown) => void): void {
    if (!(ev instanceof MessageEvent) || typeof ev.data !== 'string') return;
    this.feedWatchdog();
    this.handlers.state('live');
    try {
      deliver(JSON.parse(ev.data));
    } catch (err) {
      console.error('bad stream event', err);
    }
  }

  private feedWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => this.retryLater(), this.silenceMs);
  }

  private retryLater(): void {
    this.close();
    if (this.stopped) return;
    this.handlers.state('offline');
    this.handlers.failed();
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private close(): void {
    clearTimeout(this.watchdog);
    if (this.es) {
      this.es.onopen = null;
      this.es.onerror = null;
      this.es.close();
      this.es = null;
    }
  }
}
