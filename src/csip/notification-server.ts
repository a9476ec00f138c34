import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseNotification, type Notification } from './pubsub.js';

/**
 * The client's notification endpoint (IEEE 2030.5 Pub-Sub, docs/csip.md#subscriptions): HTTPS where the
 * utility's server must present a client certificate signed by the configured CA (verification has no
 * off switch). A POST to the path of the notificationURI is read up to `maxBodyBytes` before anything is
 * parsed, parsed into a validated Notification and answered at once (204) before it is applied, so the
 * server is not held by the client's reads; what it changes is applied by `onNotification`, one at a
 * time, the newest per resource (so a flood costs at most one pending notification per resource).
 *
 * Answers: 204 accepted; 400 not a valid Notification; 404 another path; 405 not a POST; 413 body too
 * large; 415 not application/sep+xml.
 */

export interface NotificationServerOptions {
  /** This device's certificate and key (PEM): the server side of the TLS connection. */
  readonly cert: string;
  readonly key: string;
  /** The CA (PEM) that must sign the utility's client certificate. */
  readonly ca: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The path notifications are POSTed to (of the notificationURI). */
  readonly path: string;
  /** Largest body accepted (bytes). */
  readonly maxBodyBytes: number;
  /** Why a well-formed notification is refused (400), e.g. a resource of the wrong type; undefined accepts it. */
  readonly refuse?: (n: Notification) => string | undefined;
  /** Applies an accepted notification (after the answer has been sent). */
  readonly onNotification: (n: Notification) => Promise<void>;
}

/** How many answers `received` keeps (the newest): a flood must not grow memory. */
export const NOTIFICATION_RECORDS_KEPT = 200;
/** Connections held at once (TLS or not yet); Node closes a further one as soon as it is accepted. */
const MAX_CONNECTIONS = 16;

export interface NotificationRecord {
  readonly status: number;
  readonly detail: string;
}

export class NotificationServer {
  private readonly server: Server;
  /** What the latest requests were answered (for the API and tests), at most NOTIFICATION_RECORDS_KEPT. */
  readonly received: NotificationRecord[] = [];
  /** Requests answered since start, by status. */
  readonly answered = new Map<number, number>();
  /**
   * Accepted notifications not applied yet, the newest per subscribed resource: a notification carries the
   * resource whole, so a newer one replaces an older one still waiting. A flood thus leaves at most one
   * pending per resource, applied one at a time.
   */
  private readonly pending = new Map<string, Notification>();
  private applying: Promise<void> | null = null;
  lastError: string | null = null;

  constructor(private readonly o: NotificationServerOptions) {
    this.server = createServer(
      {
        cert: o.cert,
        key: o.key,
        ca: o.ca,
        requestCert: true,
        rejectUnauthorized: true,
        // A slow or silent peer is dropped: TLS handshake within 5 s (Node's default is 120 s), headers
        // within 5 s, the whole request within 10 s. Node checks the last two only every
        // connectionsCheckingInterval (default 30 s, which let a slowloris hold a connection 31 s): 1 s.
        handshakeTimeout: 5_000,
        headersTimeout: 5_000,
        requestTimeout: 10_000,
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => this.handle(req, res),
    );
    this.server.maxConnections = MAX_CONNECTIONS;
    // A peer silent after the handshake is not covered by headersTimeout (Node starts that clock at the
    // first byte), so 16 such connections held the endpoint forever: close a socket idle for 5 s.
    this.server.setTimeout(5_000);
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.idle();
  }

  /** Resolves when every accepted notification has been applied. */
  async idle(): Promise<void> {
    while (this.applying) await this.applying;
  }

  private accept(n: Notification): void {
    this.pending.delete(n.subscribedResource);
    this.pending.set(n.subscribedResource, n);
    this.applying ??= this.applyPending().finally(() => {
      this.applying = null;
    });
  }

  private async applyPending(): Promise<void> {
    for (const [resource, n] of this.pending) {
      this.pending.delete(resource);
      try {
        await this.o.onNotification(n);
      } catch (e) {
        this.lastError = `applying a notification of ${resource}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }

  private answer(res: ServerResponse, status: number, detail: string): void {
    this.answered.set(status, (this.answered.get(status) ?? 0) + 1);
    this.received.push({ status, detail });
    if (this.received.length > NOTIFICATION_RECORDS_KEPT) this.received.splice(0, this.received.length - NOTIFICATION_RECORDS_KEPT);
    if (status >= 400) this.lastError = `notification answered ${status}: ${detail}`;
    res
      .writeHead(status, status >= 400 ? { 'content-type': 'text/plain', ...(status === 413 ? { connection: 'close' } : {}) } : {})
      .end(status >= 400 ? detail : undefined);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'https://device').pathname;
    if (path !== this.o.path) {
      this.drain(req, () => {
        this.answer(res, 404, `no notification endpoint at ${path}`);
      });
      return;
    }
    if (req.method !== 'POST') {
      this.drain(req, () => {
        this.answer(res, 405, `${req.method ?? ''} is not accepted; notifications are POSTed`);
      });
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/sep+xml') {
      this.drain(req, () => {
        this.answer(res, 415, `expected content-type application/sep+xml, found ${type || 'none'}`);
      });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.o.maxBodyBytes) {
      this.refuseTooLarge(req, res, `body of ${declared} bytes is above the limit of ${this.o.maxBodyBytes}`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > this.o.maxBodyBytes) {
        refused = true;
        this.refuseTooLarge(req, res, `body above the limit of ${this.o.maxBodyBytes} bytes`);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      let n: Notification;
      try {
        n = parseNotification(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        this.answer(res, 400, e instanceof Error ? e.message : String(e));
        return;
      }
      const why = this.o.refuse?.(n);
      if (why !== undefined) {
        this.answer(res, 400, why);
        return;
      }
      this.answer(res, 204, `${n.subscribedResource} status ${n.status}`);
      this.accept(n);
    });
  }

  /** 413, and the connection closed once the answer is out: the rest of the body is never read. */
  private refuseTooLarge(req: IncomingMessage, res: ServerResponse, detail: string): void {
    res.on('finish', () => req.socket.destroy());
    this.answer(res, 413, detail);
  }

  /** Reads and discards a refused request's body (bounded), then answers. */
  private drain(req: IncomingMessage, then: () => void): void {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.o.maxBodyBytes) req.destroy();
    });
    req.on('end', then);
  }
}
