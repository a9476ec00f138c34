import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { DiscoveryAnnouncer } from './home-assistant.js';
import { encodePayload, topicOf, type PayloadOptions } from './payload.js';
import { UplinkQueue, type NewMessage, type QueuedMessage } from './queue.js';
import type { UplinkConfig } from './uplink-config.js';
import { systemClock, type Clock } from '../util/clock.js';

/**
 * The MQTT v5 side of the uplink: sends the durable queue's messages with QoS 1 and deletes each when
 * its PUBACK arrives. After a (re)connection everything still queued is the backlog, replayed oldest
 * first at most `replay.maxPerSecond`, and only in the gaps of live data: a message committed while
 * connected goes out at once. The message id (the queue's row id, never reused) travels as the MQTT v5
 * user property `mid`, so a receiver can drop the duplicates a lost PUBACK or a crash causes.
 */

export interface UplinkLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface UplinkOptions {
  readonly config: UplinkConfig;
  readonly siteId: string;
  readonly queuePath: string;
  /** Told when the bound drops the oldest messages. */
  readonly onDrop?: (dropped: number, total: number) => void;
  readonly log?: UplinkLog;
  /** For the last contact with the broker. Default systemClock. */
  readonly clock?: Clock;
}

export interface UplinkStatus {
  readonly connected: boolean;
  /** Committed messages not yet acknowledged. */
  readonly queued: number;
  readonly inflight: number;
  /** Backlog messages left to replay since the last connection. */
  readonly backlog: number;
  readonly sent: number;
  readonly acked: number;
  readonly dropped: number;
  readonly connections: number;
  /** When a packet last came from the broker (system clock ms); null before the first. */
  readonly lastContactMs: number | null;
  /** Time of the oldest message still queued (its SenML base time, ms); null when the queue is empty. */
  readonly oldestQueuedMs: number | null;
}

const BACKLOG_PAGE = 256;

/** Inbound messages (remote commands, the twin's desired state): topics under `<prefix>/<site>/`. */
export interface InboundHandler {
  /** MQTT filters below `<prefix>/<site>/`, e.g. `cmd/+`; subscribed (QoS 1) on every connection. */
  readonly filters: readonly string[];
  onMessage(subtopic: string, payload: Buffer): void;
  /** After each connection, once the filters are subscribed. */
  onConnected?(): void;
}

export class Uplink {
  readonly queue: UplinkQueue;
  private readonly payloadOptions: PayloadOptions;
  private readonly discovery: DiscoveryAnnouncer | null;
  private client: MqttClient | null = null;
  private generation = 0;
  private connected = false;
  private stopped = false;
  private connections = 0;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  /** Live messages committed while connected, not yet sent. */
  private live: QueuedMessage[] = [];
  /** Backlog: ids in (cursor, end] still to send, read a page at a time. */
  private backlogCursor = 0;
  private backlogEnd = 0;
  private backlogPage: QueuedMessage[] = [];
  private backlogLeft = 0;
  private readonly inflight = new Map<number, boolean>();
  private backlogInflight = 0;
  private tokens = 0;
  private tokensAt = performance.now();
  private sent = 0;
  private acked = 0;
  private lastContactMs: number | null = null;
  private readonly clock: Clock;
  private inbound: InboundHandler | null = null;

  constructor(private readonly o: UplinkOptions) {
    const c = o.config;
    this.queue = new UplinkQueue(o.queuePath, { maxMessages: c.queue.maxMessages, onDrop: o.onDrop });
    this.payloadOptions = { siteId: o.siteId, topicPrefix: c.topicPrefix, format: c.format, names: c.names, energyUnit: c.energyUnit };
    this.reconnectDelay = c.reconnectMinMs;
    this.clock = o.clock ?? systemClock;
    this.discovery = c.homeAssistant.enabled
      ? new DiscoveryAnnouncer({ ...this.payloadOptions, discoveryPrefix: c.homeAssistant.discoveryPrefix, periodMs: c.telemetry.periodMs })
      : null;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Queues a message: committed with the next batch, then sent. */
  enqueue(m: NewMessage): void {
    this.queue.add(m);
    this.discovery?.note(m.component, m.channels);
    this.scheduleFlush();
  }

  /** Commits what is buffered (new messages and acknowledgements) in one transaction, then sends. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const added = this.queue.flush();
    if (this.connected) this.live.push(...added);
    this.pump();
  }

  status(): UplinkStatus {
    return {
      connected: this.connected,
      queued: this.queue.size - this.queue.pendingAcks,
      inflight: this.inflight.size,
      backlog: this.backlogLeft,
      sent: this.sent,
      acked: this.acked,
      dropped: this.queue.dropped,
      connections: this.connections,
      lastContactMs: this.lastContactMs,
      oldestQueuedMs: this.queue.oldestTs(),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.reconnectTimer, this.flushTimer, this.pumpTimer]) if (t) clearTimeout(t);
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (client) await client.endAsync(true).catch(() => undefined);
    this.queue.close();
  }

  /**
   * Publishes the site's current state under `<prefix>/<site>/<subtopic>`, retained, QoS 1, outside the
   * durable queue (the next state replaces it). False when not connected: nothing is kept.
   */
  publishState(subtopic: string, payload: Buffer, contentType: string): boolean {
    if (!this.connected || !this.client) return false;
    this.client.publish(`${this.o.config.topicPrefix}/${this.o.siteId}/${subtopic}`, payload, { qos: 1, retain: true, properties: { contentType } });
    return true;
  }

  /** Subscribes `h`'s filters now (when connected) and after every connection; messages go to `h`. */
  listen(h: InboundHandler): void {
    this.inbound = h;
    if (this.connected && this.client) this.subscribeInbound(this.client, this.generation);
  }

  /**
   * Publishes one message under `<prefix>/<site>/<subtopic>`, QoS 1, outside the durable queue (a
   * command's answer). Resolves true on PUBACK, false when not connected or the broker refused it.
   */
  publishTo(subtopic: string, payload: Buffer, o: { retain: boolean; contentType: string }): Promise<boolean> {
    const client = this.client;
    if (!this.connected || !client) return Promise.resolve(false);
    return new Promise((resolve) =>
      client.publish(`${this.base()}${subtopic}`, payload, { qos: 1, retain: o.retain, properties: { contentType: o.contentType } }, (err) => resolve(!err)),
    );
  }

  private base(): string {
    return `${this.o.config.topicPrefix}/${this.o.siteId}/`;
  }

  private subscribeInbound(client: MqttClient, gen: number): void {
    const h = this.inbound;
    if (!h) return;
    client.subscribe(
      h.filters.map((f) => `${this.base()}${f}`),
      { qos: 1 },
      (err) => {
        if (gen !== this.generation) return;
        if (err) this.o.log?.warn({ err: err.message }, 'uplink: subscribing to commands failed');
        else h.onConnected?.();
      },
    );
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), this.o.config.queue.flushDelayMs);
  }

  private clientOptions(): IClientOptions {
    const c = this.o.config;
    const tls = c.tls;
    const status = `${c.topicPrefix}/${this.o.siteId}/status`;
    return {
      protocolVersion: 5,
      clean: true,
      clientId: c.clientId ?? `mgos-${this.o.siteId}`,
      keepalive: c.keepaliveS,
      // Reconnection is ours: a new client per connection, so nothing is resent from mqtt.js's memory.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(tls?.ca ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls?.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls?.key ? { key: readFileSync(tls.key) } : {}),
      ...(tls ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    const client = connect(this.o.config.url, this.clientOptions());
    this.client = client;
    client.on('connect', () => {
      if (gen !== this.generation) return;
      this.connected = true;
      this.connections++;
      this.reconnectDelay = this.o.config.reconnectMinMs;
      client.publish(`${this.o.config.topicPrefix}/${this.o.siteId}/status`, 'online', { qos: 1, retain: true });
      // Retained state, sent again on every connection: not queued durably.
      this.discovery?.connected((d) => client.publish(d.topic, d.payload, { qos: 1, retain: true }));
      // Everything committed so far is backlog; what is committed from now on is live.
      this.queue.flush();
      this.live = [];
      this.backlogCursor = 0;
      this.backlogEnd = this.queue.maxId();
      this.backlogPage = [];
      this.backlogLeft = this.queue.size;
      this.inflight.clear();
      this.backlogInflight = 0;
      this.tokens = 0;
      this.tokensAt = performance.now();
      this.o.log?.info({ url: this.o.config.url, backlog: this.backlogLeft }, 'uplink connected');
      this.pump();
      this.subscribeInbound(client, gen);
    });
    client.on('message', (topic, payload) => {
      const base = this.base();
      if (gen === this.generation && topic.startsWith(base)) this.inbound?.onMessage(topic.slice(base.length), payload);
    });
    client.on('packetreceive', () => {
      if (gen === this.generation) this.lastContactMs = this.clock();
    });
    client.on('error', (err) => {
      if (gen === this.generation) this.o.log?.warn({ err: err.message }, 'uplink: MQTT error');
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      const was = this.connected;
      this.connected = false;
      this.discovery?.disconnected();
      this.live = [];
      this.inflight.clear();
      this.backlogInflight = 0;
      this.client = null;
      client.end(true);
      if (was) this.o.log?.warn({ url: this.o.config.url }, 'uplink disconnected; messages stay queued');
      if (this.stopped) return;
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.o.config.reconnectMaxMs, this.reconnectDelay * 2);
    });
  }

  /** Sends live messages first, then backlog within the rate cap, within the in-flight window. */
  private pump(): void {
    if (!this.connected || !this.client) return;
    const window = this.o.config.replay.inflight;
    while (this.live.length > 0 && this.inflight.size < window) this.send(this.live.shift() as QueuedMessage, false);
    if (this.live.length > 0) return;
    const backlogWindow = Math.max(1, Math.floor(window / 2));
    const rate = this.o.config.replay.maxPerSecond;
    const now = performance.now();
    this.tokens = Math.min(Math.max(1, rate / 10), this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    while (this.backlogInflight < backlogWindow && this.inflight.size < window && this.tokens >= 1) {
      const next = this.nextBacklog();
      if (!next) return;
      this.tokens -= 1;
      this.send(next, true);
    }
    if (this.tokens < 1 && this.backlogLeft > 0 && !this.pumpTimer) {
      this.pumpTimer = setTimeout(
        () => {
          this.pumpTimer = null;
          this.pump();
        },
        Math.ceil(((1 - this.tokens) * 1000) / rate),
      );
    }
  }

  private nextBacklog(): QueuedMessage | undefined {
    if (this.backlogPage.length === 0 && this.backlogCursor < this.backlogEnd) {
      this.backlogPage = this.queue.read(this.backlogCursor, this.backlogEnd, BACKLOG_PAGE);
      const last = this.backlogPage.at(-1);
      this.backlogCursor = last ? last.id : this.backlogEnd;
    }
    const m = this.backlogPage.shift();
    if (!m) this.backlogLeft = 0;
    return m;
  }

  private send(m: QueuedMessage, backlog: boolean): void {
    const client = this.client;
    if (!client) return;
    const gen = this.generation;
    const { payload, contentType } = encodePayload(m, this.payloadOptions);
    this.inflight.set(m.id, backlog);
    if (backlog) this.backlogInflight++;
    this.sent++;
    client.publish(
      topicOf(this.payloadOptions, m.component),
      payload,
      { qos: 1, properties: { contentType, userProperties: { mid: String(m.id) } } },
      (err) => {
        if (gen !== this.generation) return;
        if (this.inflight.delete(m.id) && backlog) {
          this.backlogInflight--;
          this.backlogLeft = Math.max(0, this.backlogLeft - 1);
        }
        // A refused or unanswered message stays queued and goes again after the next reconnection.
        if (err) return;
        this.acked++;
        this.queue.ack(m.id);
        this.scheduleFlush();
        this.pump();
      },
    );
  }
}
