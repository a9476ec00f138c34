/**
 * Uplink: backlog drain rate (messages/s) through the machine's Mosquitto (127.0.0.1:1883), the latency
 * of live data sent while the backlog drains, and bytes per reading of SenML (JSON, CBOR) and of the
 * queue's rows against a naive JSON payload. Printed, not asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import { encodePayload } from '../src/uplink/payload.js';
import { UplinkQueue, type NewMessage } from '../src/uplink/queue.js';
import { uplinkConfigSchema } from '../src/uplink/uplink-config.js';
import { Uplink } from '../src/uplink/uplink.js';

const T0 = Date.UTC(2027, 6, 31, 20, 30, 0);
const DDSU = ['ActivePower', 'ReactivePower', 'ApparentPower', 'PowerFactor', 'Frequency', 'Voltage_L1', 'Current_L1', 'EnergyImport', 'EnergyExport'];

const message = (i: number, component: string): NewMessage => ({
  component,
  ts: T0 + Math.floor(i / 100) * 10_000,
  channels: DDSU,
  values: [1234.5 + (i % 97), 120.25, 1240.5, 0.98, 50.01, 230.2, 5.37, 47_849.123 + i / 1000, 0.012],
});

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function drain(backlog: number, maxPerSecond: number): Promise<{ rate: number; p50: number; p99: number; liveSent: number; received: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-uplink-'));
  const topicPrefix = `mgosbench-${process.pid}-${maxPerSecond}`;
  const file = path.join(dir, 'q.db');
  const q = new UplinkQueue(file, { maxMessages: 10_000_000 });
  for (let i = 0; i < backlog; i++) q.add(message(i, `meter${(i % 100) + 2}`));
  q.flush();
  q.close();
  const sub = await connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `${topicPrefix}-sub` });
  let backlogSeen = 0;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  sub.on('message', (topic, payload) => {
    if (topic.endsWith('/status')) return;
    if (!topic.endsWith('/live')) {
      backlogSeen++;
      return;
    }
    const k = Number((JSON.parse(payload.toString()) as Array<{ bt?: number }>)[0]?.bt);
    const at = sentAt.get(k);
    if (at !== undefined) latencies.push(performance.now() - at);
  });
  await sub.subscribeAsync(`${topicPrefix}/#`, { qos: 1 });
  const config = uplinkConfigSchema.parse({
    url: 'mqtt://127.0.0.1:1883',
    topicPrefix,
    clientId: `${topicPrefix}-pub`,
    replay: { maxPerSecond, inflight: 64 },
    queue: { flushDelayMs: 1000 },
  });
  const up = new Uplink({ config, siteId: 'bench', queuePath: file });
  const start = performance.now();
  up.start();
  // Live data every 100 ms while the backlog drains: committed and sent at once, ahead of the backlog.
  let k = 0;
  const live = setInterval(() => {
    const bt = T0 / 1000 + 1_000_000 + k++;
    sentAt.set(bt, performance.now());
    up.enqueue({ ...message(0, 'live'), ts: bt * 1000 });
    up.flush();
  }, 100);
  // Drained when every backlog message was acknowledged (PUBACK) and deleted; a subscriber slower than
  // the broker's queue limit may miss some, so its count is reported, not waited for.
  const end = performance.now() + 300_000;
  while ((up.status().acked < backlog || up.status().queued > 0) && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - start) / 1000;
  clearInterval(live);
  await new Promise((r) => setTimeout(r, 300));
  await up.stop();
  await sub.endAsync();
  rmSync(dir, { recursive: true, force: true });
  return { rate: backlog / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), liveSent: k, received: backlogSeen };
}

export async function run(): Promise<Record<string, number | string>> {
  const m = message(0, 'meter12');
  const opts = { siteId: 'kasese', topicPrefix: 'mgos', names: 'obis' as const, energyUnit: 'kWh' as const };
  const json = encodePayload(m, { ...opts, format: 'json' }).payload.length;
  const cbor = encodePayload(m, { ...opts, format: 'cbor' }).payload.length;
  const naive = JSON.stringify(
    m.channels.map((ch, i) => ({ site: 'kasese', component: 'meter12', channel: ch, value: m.values[i], unit: 'W', timestamp: new Date(m.ts).toISOString() })),
  ).length;
  // Queue rows on disk: one hour of 100 meters.
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-uplink-size-'));
  const q = new UplinkQueue(path.join(dir, 'q.db'), { maxMessages: 10_000_000 });
  for (let p = 0; p < 360; p++) {
    for (let i = 0; i < 100; i++) q.add(message(p * 100 + i, `meter${i + 2}`));
    q.flush();
  }
  const rowBytes = q.bytesUsed() / 36_000;
  q.close();
  rmSync(dir, { recursive: true, force: true });
  const backlog = Number(process.env.BENCH_UPLINK_BACKLOG ?? 20_000);
  const fast = await drain(backlog, 1_000_000);
  const capped = await drain(Math.min(backlog, 4000), 200);
  return {
    'readings per message (DDSU666)': DDSU.length,
    'bytes/reading SenML JSON': +(json / DDSU.length).toFixed(1),
    'bytes/reading SenML CBOR': +(cbor / DDSU.length).toFixed(1),
    'bytes/reading naive JSON': +(naive / DDSU.length).toFixed(1),
    'bytes/reading queue row on disk': +(rowBytes / DDSU.length).toFixed(1),
    'queue MB for a week of 100 meters at 10 s': +((rowBytes * 6_048_000) / 1e6).toFixed(0),
    [`drain msgs/s (no cap, ${backlog} msgs)`]: Math.round(fast.rate),
    'backlog received by the subscriber (no cap)': fast.received,
    'live latency p50 ms while draining (no cap)': +fast.p50.toFixed(1),
    'live latency p99 ms while draining (no cap)': +fast.p99.toFixed(1),
    'drain msgs/s (cap 200/s, default)': Math.round(capped.rate),
    'live latency p50 ms while draining (cap 200/s)': +capped.p50.toFixed(1),
    'live latency p99 ms while draining (cap 200/s)': +capped.p99.toFixed(1),
  };
}
