import type { Clock } from '../util/clock.js';
import type { CsipClient, Kind } from './client.js';
import { NotificationServer } from './notification-server.js';
import type { Notification, NotifiedType } from './pubsub.js';
import { CsipSubscriptions } from './subscriptions.js';

/**
 * Subscriptions and the notification endpoint of one CsipClient, wired together (docs/csip.md#subscriptions):
 * a notification of a subscribed resource is applied by the client as a poll of it would be, then the
 * Responses it makes due are posted; a notification that ends a subscription (status 1 to 4) makes the
 * subscription be made again at the next sync.
 */

export interface PubSubOptions {
  readonly clock: Clock;
  /** TLS identity of the endpoint (the device's certificate and key) and the CA of the utility's certificates. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly host: string;
  readonly port: number;
  /** The notificationURI given to the server (its path is the endpoint's); a function of the port bound when that is 0. */
  readonly publicUri: string | ((port: number) => string);
  readonly maxBodyBytes: number;
  readonly limit: number;
  readonly retryMs: number;
}

/** The resource type a notification of each kind of resource must carry. */
const TYPE_OF: Partial<Record<Kind, NotifiedType>> = {
  edevList: 'EndDeviceList',
  fsaList: 'FunctionSetAssignmentsList',
  derpList: 'DERProgramList',
  dercList: 'DERControlList',
  dderc: 'DefaultDERControl',
};

export class CsipPubSub {
  readonly subscriptions: CsipSubscriptions;
  readonly server: NotificationServer;
  /** The latest notifications applied (the subscribed resource), in order, for tests and the API; at most 200. */
  readonly applied: string[] = [];

  constructor(
    private readonly client: CsipClient,
    o: PubSubOptions,
  ) {
    const uri = o.publicUri;
    this.subscriptions = new CsipSubscriptions(client, {
      notificationURI: typeof uri === 'string' ? uri : uri(o.port),
      limit: o.limit,
      clock: o.clock,
      retryMs: o.retryMs,
    });
    this.publicUri = uri;
    this.server = new NotificationServer({
      cert: o.cert,
      key: o.key,
      ca: o.ca,
      host: o.host,
      port: o.port,
      path: new URL(typeof uri === 'string' ? uri : uri(o.port)).pathname,
      maxBodyBytes: o.maxBodyBytes,
      refuse: (n) => this.refuse(n),
      onNotification: (n) => this.apply(n),
    });
  }

  private readonly publicUri: PubSubOptions['publicUri'];

  /** Starts the endpoint; returns its port. Until then no subscription is made. */
  async start(): Promise<number> {
    const port = await this.server.start();
    if (typeof this.publicUri !== 'string') this.subscriptions.notificationURI = this.publicUri(port);
    this.started = true;
    return port;
  }

  private started = false;

  stop(): Promise<void> {
    return this.server.close();
  }

  /** Called after each tick of the client: subscriptions follow what the client reads. */
  async sync(): Promise<void> {
    if (this.started) await this.subscriptions.sync();
  }

  private refuse(n: Notification): string | undefined {
    if (n.status !== 0) return undefined;
    const known = this.client.subscribable.get(n.subscribedResource);
    if (!known || !this.subscriptions.held.has(n.subscribedResource)) return `${n.subscribedResource} is not a resource this client subscribed to`;
    const want = TYPE_OF[known.kind];
    if (n.resource && n.resource.type !== want) return `${n.subscribedResource} is a ${want ?? known.kind}, the notification carries a ${n.resource.type}`;
    if (n.resource?.href !== undefined && n.resource.href !== n.subscribedResource)
      return `the notification of ${n.subscribedResource} carries the resource at ${n.resource.href}`;
    return undefined;
  }

  private async apply(n: Notification): Promise<void> {
    if (n.status !== 0) {
      this.subscriptions.cancelled(n);
      return;
    }
    if (await this.client.applyNotified(n.subscribedResource, n.resource?.xml)) {
      this.applied.push(n.subscribedResource);
      if (this.applied.length > 200) this.applied.shift();
    }
    await this.client.postResponses();
  }
}
