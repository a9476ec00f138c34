import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Clock } from '../util/clock.js';
import { SEP_NS, CSIPAUS_NS } from './resources.js';

/**
 * A small IEEE 2030.5 server for tests (and later the conformance harness, issue 11 item 6): HTTPS with
 * client certificates required and verified against the given CA, resources served from memory,
 * lists paged by `s` and `l`, Time from the server's own clock, every request recorded (with the LFDI
 * of the client's certificate), POSTs answered 201. It can be taken offline (connections refused
 * with a reset) and back.
 */

export interface CsipTestServerOptions {
  readonly cert: string;
  readonly key: string;
  /** CA that signs the clients' certificates. */
  readonly ca: string;
  /** The server's clock (its Time resource); may differ from the client's. */
  readonly clock: Clock;
  readonly timePath?: string;
  readonly timePollRate?: number;
  /**
   * Answers a request instead of the resources set here (the conformance interpreter's utility model);
   * undefined falls through to them. Called after the request is recorded.
   */
  readonly route?: (req: RecordedRequest) => Answer | undefined;
}

export interface Answer {
  readonly status: number;
  readonly body?: string;
  readonly location?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: string;
  /** LFDI of the client certificate that made the request. */
  readonly lfdi: string;
}

interface ListResource {
  readonly name: string;
  readonly items: readonly string[];
  readonly pollRate: number | undefined;
  readonly subscribable: number | undefined;
}

const NS = `xmlns="${SEP_NS}" xmlns:csipaus="${CSIPAUS_NS}"`;

export class CsipTestServer {
  private readonly server: Server;
  private readonly resources = new Map<string, string>();
  private readonly lists = new Map<string, ListResource>();
  readonly requests: RecordedRequest[] = [];
  offline = false;
  /** Bytes on the wire (TLS records, headers and bodies) of connections closed so far, and the open ones. */
  private closedBytes = { read: 0, written: 0 };
  private readonly open = new Set<Socket>();

  constructor(private readonly o: CsipTestServerOptions) {
    this.server = createServer({ cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.offline) {
          req.socket.destroy();
          return;
        }
        const url = new URL(req.url ?? '/', 'https://server');
        const peer = req.socket instanceof TLSSocket ? req.socket.getPeerCertificate() : undefined;
        const lfdi = peer ? createHash('sha256').update(peer.raw).digest('hex').slice(0, 40).toUpperCase() : '';
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), body, lfdi });
        const routed = this.o.route?.(this.requests[this.requests.length - 1] as RecordedRequest);
        if (routed) {
          const headers: Record<string, string> = {};
          if (routed.body !== undefined) headers['content-type'] = 'application/sep+xml';
          if (routed.location !== undefined) headers['location'] = routed.location;
          res.writeHead(routed.status, headers).end(routed.body);
          return;
        }
        if (req.method === 'POST') {
          res.writeHead(201, { location: `${url.pathname}/${this.requests.length}` }).end();
          return;
        }
        const xml = this.render(url);
        if (xml === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/sep+xml' }).end(xml);
      });
    });
  }

  /** Bytes the server received and sent on the wire since it started (for the polling benchmark). */
  traffic(): { readonly received: number; readonly sent: number } {
    let received = this.closedBytes.read;
    let sent = this.closedBytes.written;
    for (const s of this.open) {
      received += s.bytesRead;
      sent += s.bytesWritten;
    }
    return { received, sent };
  }

  /** Serves `xml` (a whole document) at `path`. */
  set(path: string, xml: string): void {
    this.resources.set(path, xml);
  }

  /**
   * Serves a list `name` at `path` with the given item elements (each a whole element, no namespace
   * declaration needed); `subscribable` (0 to 3) offers it for subscription.
   */
  setList(path: string, name: string, items: readonly string[], pollRate?: number, subscribable?: number): void {
    this.lists.set(path, { name, items, pollRate, subscribable });
  }

  remove(path: string): void {
    this.resources.delete(path);
    this.lists.delete(path);
  }

  async start(): Promise<string> {
    // The raw TCP socket: what went over the wire, TLS included.
    this.server.on('connection', (s: Socket) => {
      this.open.add(s);
      s.on('close', () => {
        this.open.delete(s);
        this.closedBytes.read += s.bytesRead;
        this.closedBytes.written += s.bytesWritten;
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * POSTs a Notification (IEEE 2030.5 Pub-Sub) to a client's notificationURI as this server would: its
   * certificate as the TLS client certificate (or `as`, another identity), the client's endpoint verified
   * against `ca`. Resolves to the HTTP status answered.
   */
  notify(uri: string, body: string, ca: string, as?: { readonly cert: string; readonly key: string }): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        uri,
        {
          method: 'POST',
          cert: as?.cert ?? this.o.cert,
          key: as?.key ?? this.o.key,
          ca,
          rejectUnauthorized: true,
          agent: false,
          headers: { 'content-type': 'application/sep+xml', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.setTimeout(5000, () => req.destroy(new Error(`POST ${uri}: no answer within 5 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  gets(path?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && (path === undefined || r.path === path));
  }

  posts(path?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && (path === undefined || r.path === path));
  }

  private render(url: URL): string | undefined {
    const path = url.pathname;
    if (path === (this.o.timePath ?? '/tm')) {
      const now = Math.floor(this.o.clock() / 1000);
      const rate = this.o.timePollRate === undefined ? '' : ` pollRate="${this.o.timePollRate}"`;
      return `<Time ${NS} href="${path}"${rate}><currentTime>${now}</currentTime><dstEndTime>0</dstEndTime><dstOffset>0</dstOffset><dstStartTime>0</dstStartTime><localTime>${now}</localTime><quality>7</quality><tzOffset>0</tzOffset></Time>`;
    }
    const list = this.lists.get(path);
    if (list) {
      const s = Number(url.searchParams.get('s') ?? '0');
      const l = Number(url.searchParams.get('l') ?? '1');
      const page = list.items.slice(s, s + l);
      const rate = list.pollRate === undefined ? '' : ` pollRate="${list.pollRate}"`;
      const sub = list.subscribable === undefined ? '' : ` subscribable="${list.subscribable}"`;
      return `<${list.name} ${NS} href="${path}"${sub} all="${list.items.length}" results="${page.length}"${rate}>${page.join('')}</${list.name}>`;
    }
    return this.resources.get(path);
  }
}
