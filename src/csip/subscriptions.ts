import type { Clock } from '../util/clock.js';
import { DEFAULT_POLL_RATE_S, type CsipClient, type Kind } from './client.js';
import { parseSubscriptionList, subscriptionXml, type Notification } from './pubsub.js';

/**
 * The client's IEEE 2030.5 subscriptions (docs/csip.md#subscriptions): for every resource the client
 * reads whose `subscribable` attribute allows non-conditional subscriptions (1 or 3) and of a kind whose
 * changes carry the utility's controls (the EndDevice, FSA, DERProgram and DERControl lists and
 * DefaultDERControls), a Subscription is POSTed to the EndDevice's SubscriptionListLink. The list is
 * read back at its pollRate and a subscription the server no longer holds (a restart, a cancellation
 * notified with status 1 to 4) is made again; a subscription whose resource the client no longer reads
 * is DELETEd. Subscribed resources go on being polled at the server's pollRate.
 */

export interface SubscriptionOptions {
  readonly notificationURI: string;
  /** Items of a list the server may put in one notification (Subscription.limit). */
  readonly limit: number;
  readonly clock: Clock;
  /** After a refused or failed POST, the subscription is tried again after this long (ms). */
  readonly retryMs: number;
}

/** The kinds of resource subscribed to. */
const SUBSCRIBED_KINDS: ReadonlySet<Kind> = new Set<Kind>(['edevList', 'fsaList', 'derpList', 'dercList', 'dderc']);

interface Held {
  /** Where the server put the subscription (its Location), for DELETE. */
  readonly location: string | undefined;
}

export class CsipSubscriptions {
  /** Subscriptions held, by subscribed resource href. */
  readonly held = new Map<string, Held>();
  /** Resources whose POST failed or was refused, with when to try again (ms). */
  private readonly retryAt = new Map<string, number>();
  private verifyAtMs = -Infinity;
  lastError: string | null = null;

  /** The absolute URI the server POSTs notifications to (set once the endpoint's port is known). */
  notificationURI: string;

  constructor(
    private readonly client: CsipClient,
    private readonly o: SubscriptionOptions,
  ) {
    this.notificationURI = o.notificationURI;
  }

  /** The subscription list of the client's EndDevice, if the server offers one. */
  private get listHref(): string | undefined {
    return this.client.endDevice?.SubscriptionListLink?.href;
  }

  /** The resources that should be subscribed now. */
  wanted(): string[] {
    if (this.listHref === undefined) return [];
    return [...this.client.subscribable.entries()].filter(([, s]) => SUBSCRIBED_KINDS.has(s.kind) && (s.code === 1 || s.code === 3)).map(([href]) => href);
  }

  /** When `sync` has something to do next (ms). */
  nextDueMs(): number {
    const pending = this.wanted().filter((h) => !this.held.has(h));
    const retry = pending.map((h) => this.retryAt.get(h) ?? -Infinity);
    return Math.min(this.verifyAtMs, ...retry);
  }

  /** Subscribes to what is wanted, drops what is not, and verifies the server's list when due. */
  async sync(): Promise<void> {
    const list = this.listHref;
    if (list === undefined) return;
    const now = this.o.clock();
    const wanted = new Set(this.wanted());
    // Every failure waits retryMs before the same request is made again (the server may be away).
    if (now >= this.verifyAtMs && this.held.size > 0) {
      try {
        await this.verify(list);
      } catch (e) {
        this.failed(e);
        this.verifyAtMs = now + this.o.retryMs;
      }
    }
    for (const [href, h] of [...this.held]) if (!wanted.has(href)) await this.unsubscribe(href, h).catch((e: unknown) => this.failed(e));
    for (const href of wanted) {
      if (this.held.has(href) || (this.retryAt.get(href) ?? -Infinity) > now) continue;
      try {
        await this.subscribe(list, href);
      } catch (e) {
        this.failed(e);
        this.retryAt.set(href, now + this.o.retryMs);
      }
    }
    if (this.verifyAtMs === -Infinity && this.held.size > 0) this.verifyAtMs = now + DEFAULT_POLL_RATE_S * 1000;
  }

  private failed(e: unknown): void {
    this.lastError = e instanceof Error ? e.message : String(e);
  }

  /** A notification with status 1 to 4 ends the subscription at the server: made again at the next sync if still wanted. */
  cancelled(n: Notification): void {
    this.held.delete(n.subscribedResource);
    this.retryAt.delete(n.subscribedResource);
  }

  private async subscribe(list: string, href: string): Promise<void> {
    const res = await this.client.send('POST', list, subscriptionXml({ subscribedResource: href, limit: this.o.limit, notificationURI: this.notificationURI }));
    if (res.status >= 200 && res.status < 300) {
      this.held.set(href, { location: res.location });
      this.retryAt.delete(href);
      return;
    }
    this.lastError = `POST ${list} (subscription to ${href}): HTTP ${res.status}`;
    this.retryAt.set(href, this.o.clock() + this.o.retryMs);
  }

  private async unsubscribe(href: string, h: Held): Promise<void> {
    this.held.delete(href);
    if (h.location === undefined) return;
    const res = await this.client.send('DELETE', h.location);
    if ((res.status < 200 || res.status >= 300) && res.status !== 404) this.lastError = `DELETE ${h.location}: HTTP ${res.status}`;
  }

  /** Reads the SubscriptionList (all pages) and forgets what the server no longer holds for this notificationURI. */
  private async verify(list: string): Promise<void> {
    const found = new Set<string>();
    let pollRate: number | undefined;
    for (let s = 0, page = 0; page < 100; page++) {
      const sep = list.includes('?') ? '&' : '?';
      const res = await this.client.send('GET', `${list}${sep}s=${s}&l=${Math.max(10, this.held.size)}`);
      if (res.status !== 200) throw new Error(`GET ${list}: HTTP ${res.status}`);
      const l = parseSubscriptionList(res.body);
      if (page === 0) pollRate = l.pollRate;
      for (const sub of l.Subscription) if (sub.notificationURI === this.notificationURI) found.add(sub.subscribedResource);
      s += l.Subscription.length;
      if (l.Subscription.length === 0 || s >= l.all) break;
    }
    for (const href of [...this.held.keys()]) if (!found.has(href)) this.held.delete(href);
    this.verifyAtMs = this.o.clock() + (pollRate ?? DEFAULT_POLL_RATE_S) * 1000;
  }
}
