import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { toolPath } from './pty.js';

export const BROKER_HOST = '127.0.0.1';
export const BROKER_PORT = 1883;

interface Skippable {
  skip(message?: string): void;
}

/** Is the machine's Mosquitto answering? */
export function brokerUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(BROKER_PORT, BROKER_HOST);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The peer needs mosquitto_sub and a broker on 127.0.0.1:1883. Missing on a developer machine: the
 * test is skipped with the reason; under CI=true it fails.
 */
export async function requireBroker(t: Skippable): Promise<boolean> {
  const missing = !toolPath('mosquitto_sub')
    ? 'mosquitto_sub is not installed (apt-get install mosquitto-clients)'
    : !(await brokerUp())
      ? `no MQTT broker on ${BROKER_HOST}:${BROKER_PORT} (apt-get install mosquitto; mosquitto -d -c /etc/mosquitto/mosquitto.conf)`
      : null;
  if (missing === null) return true;
  if (process.env.CI) throw new Error(`${missing}; CI must run this test`);
  t.skip(missing);
  return false;
}

export interface Received {
  /** The user property mid; -1 for a message without one (only kept with `withoutMid`). */
  readonly mid: number;
  readonly topic: string;
  /** Payload as printed: text for JSON, hex for CBOR (hex: true). */
  readonly payload: string;
}

export interface Subscriber {
  readonly messages: Received[];
  waitFor(n: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** mosquitto_sub (MQTT v5, QoS 1) on `topic`, printing the user property mid, the topic and the payload. */
export async function subscribe(topic: string, opts: { hex?: boolean; withoutMid?: boolean } = {}): Promise<Subscriber> {
  // Line-buffered: a piped mosquitto_sub otherwise holds its output in a block buffer (stdbuf execs it, same pid).
  const args = ['-h', BROKER_HOST, '-p', String(BROKER_PORT), '-V', 'mqttv5', '-q', '1', '-d', '-t', topic, '-F', opts.hex ? '%P\t%t\t%x' : '%P\t%t\t%p'];
  const child: ChildProcess = toolPath('stdbuf')
    ? spawn('stdbuf', ['-oL', 'mosquitto_sub', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: Received[] = [];
  let buf = '';
  let subscribed: () => void = () => undefined;
  const ready = new Promise<void>((r) => (subscribed = r));
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('received SUBACK')) subscribed();
      const m = /^mid:(\d+)\t([^\t]+)\t(.*)$/.exec(line);
      if (m) messages.push({ mid: Number(m[1]), topic: m[2] ?? '', payload: m[3] ?? '' });
      const plain = opts.withoutMid && !m ? /^\t([^\t]+)\t(.*)$/.exec(line) : null;
      if (plain) messages.push({ mid: -1, topic: plain[1] ?? '', payload: plain[2] ?? '' });
    }
  });
  await ready;
  return {
    messages,
    waitFor: async (n, timeoutMs) => {
      const until = performance.now() + timeoutMs;
      while (messages.length < n) {
        if (performance.now() > until) throw new Error(`mosquitto_sub received ${messages.length} of ${n} messages in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        // mosquitto_sub can miss SIGTERM (seen under faketime): kill it for good after 2 s.
        const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** A free TCP port on 127.0.0.1 (nothing listens on it once this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A TCP forwarder to the broker on a fixed port that can be taken down (nothing listens, every open
 * connection cut) and brought back: an outage of "the broker" without touching the system's Mosquitto.
 */
export class BrokerLink {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly port: number) {}

  up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(BROKER_PORT, BROKER_HOST);
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
