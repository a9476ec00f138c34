import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ProcessImage } from '../src/channels/process-image.js';
import { LiveFeed } from '../src/site/live-feed.js';
import { manualClock } from '../src/util/clock.js';
import { fromRoot } from '../src/util/paths.js';
import { startUplink } from '../src/uplink/index.js';
import { UplinkQueue, type NewMessage } from '../src/uplink/queue.js';
import { decodeCbor, decodeJson, resolvePack } from '../src/uplink/senml.js';
import { uplinkConfigSchema } from '../src/uplink/uplink-config.js';
import { Uplink } from '../src/uplink/uplink.js';
import { BrokerLink, BROKER_PORT, freePort, requireBroker, subscribe, type Received } from './helpers/mqtt-peer.js';
import { startUplinkSite } from './helpers/uplink-site.js';

/**
 * The uplink against the machine's real Mosquitto, with mosquitto_sub (mosquitto-clients) as the
 * independent receiver. Outages are a forwarder on a port of our own that stops listening: the
 * system's broker is never touched. Times come from a manual clock at a fixed date.
 */
const T0 = Date.UTC(2027, 6, 31, 20, 30, 0);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-uplink-mqtt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A float32 on the wire (CBOR, DECIMAL_FIT) stands for its 7-digit decimal: 230.2, not 230.1999969. */
const fromFloat32 = <R extends { v?: number }>(r: R): R =>
  r.v !== undefined && Math.fround(r.v) === r.v && !Number.isInteger(r.v) ? { ...r, v: Number(r.v.toPrecision(7)) } : r;

const prefix = (): string => `mgostest-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const meterMessage = (i: number, component = 'meter2'): NewMessage => ({
  component,
  ts: T0 + i * 10_000,
  channels: ['ActivePower', 'Voltage_L1', 'Current_L1', 'PowerFactor', 'Frequency', 'EnergyImport'],
  values: [1000 + (i % 500), 230.2, 4.5, 0.98, 50.01, 1234.5 + i / 1000],
});

test('telemetry from the process image reaches mosquitto_sub as valid SenML (JSON and CBOR), QoS 1, with a message id', async (t) => {
  if (!(await requireBroker(t))) return;
  for (const format of ['json', 'cbor'] as const) {
    const topicPrefix = prefix();
    const sub = await subscribe(`${topicPrefix}/#`, { hex: format === 'cbor' });
    const clock = manualClock(T0);
    const image = new ProcessImage(clock);
    const live = new LiveFeed();
    image.update('meter2', { ActivePower: -7536, Voltage_L1: 230.2, EnergyImport: 478490.12, ReactivePower: 15 }, T0, 10_000);
    image.update('main', { ActivePower: 4200, Voltage_L1: 231, Voltage_L2: 229.5, Voltage_L3: 230.1, Frequency: 50.02 }, T0, 10_000);
    const config = uplinkConfigSchema.parse({
      url: `mqtt://127.0.0.1:${BROKER_PORT}`,
      topicPrefix,
      format,
      clientId: `${topicPrefix}-a`,
      telemetry: { periodMs: 3_600_000 },
      queue: { flushDelayMs: 50 },
    });
    const up = startUplink({ config, siteId: 'kasese', storagePath: path.join(tempDir(t), 'mgos.db'), image, live, clock });
    try {
      await until(() => up.status().connected, 5000, 'the connection');
      assert.equal(up.telemetry.periodic(), 2);
      await sub.waitFor(2, 5000);
      // Change-based: only what moved beyond its deadband, after the live feed's cycle event.
      image.update('meter2', { ActivePower: -7000, Voltage_L1: 230.3, EnergyImport: 478490.2, ReactivePower: 15 }, T0 + 10_000, 10_000);
      live.publish({
        report: { bus: 'b', cycle: 1, startedAt: T0 + 10_000, durationMs: 1, requests: 1, failedDevices: 0, skippedDevices: 0, overrun: false },
        changed: ['meter2'],
      });
      await sub.waitFor(3, 5000);
      await until(() => up.status().queued === 0, 5000, 'every PUBACK deleting its message');
    } finally {
      await up.stop();
      await sub.stop();
    }
    const packs = sub.messages
      .filter((m) => !m.topic.endsWith('/status'))
      .map((m: Received) => ({
        mid: m.mid,
        topic: m.topic,
        records: resolvePack(format === 'json' ? decodeJson(m.payload) : decodeCbor(Buffer.from(m.payload, 'hex')), 0).map(fromFloat32),
      }));
    assert.deepEqual(packs.map((p) => p.topic).sort(), [`${topicPrefix}/kasese/main`, `${topicPrefix}/kasese/meter2`, `${topicPrefix}/kasese/meter2`]);
    assert.deepEqual(
      packs.map((p) => p.mid),
      [1, 2, 3],
    );
    const meter = packs.find((p) => p.topic.endsWith('meter2'));
    assert.deepEqual(meter?.records, [
      { n: 'kasese/meter2/1-0:16.7.0', t: T0 / 1000, u: 'W', v: -7536 },
      { n: 'kasese/meter2/1-0:32.7.0', t: T0 / 1000, u: 'V', v: 230.2 },
      { n: 'kasese/meter2/1-0:1.8.0', t: T0 / 1000, u: 'kWh', v: 478490.12 },
      { n: 'kasese/meter2/ReactivePower', t: T0 / 1000, u: 'var', v: 15 },
    ]);
    const change = packs[2];
    assert.deepEqual(
      change?.records.map((r) => r.n),
      ['kasese/meter2/1-0:16.7.0', 'kasese/meter2/1-0:1.8.0'],
      `${format}: 0.1 V is inside the deadband; ReactivePower did not change`,
    );
  }
});

test('broker unreachable through a simulated week (clock compressed), then reachable: every message arrives once, in order, live first', async (t) => {
  if (!(await requireBroker(t))) return;
  const topicPrefix = prefix();
  const port = await freePort(); // nothing listens here yet: the broker is "down"
  const link = new BrokerLink(port);
  const sub = await subscribe(`${topicPrefix}/#`);
  const config = uplinkConfigSchema.parse({
    url: `mqtt://127.0.0.1:${port}`,
    topicPrefix,
    clientId: `${topicPrefix}-b`,
    reconnectMinMs: 200,
    reconnectMaxMs: 400,
    replay: { maxPerSecond: 5000, inflight: 64 },
    queue: { flushDelayMs: 100 },
  });
  const uplink = new Uplink({ config, siteId: 'kasese', queuePath: path.join(tempDir(t), 'q.db') });
  const clock = manualClock(T0);
  // A week of one meter at 10 s: 60,480 messages, committed as one batch per simulated hour.
  const week = 7 * 8640;
  try {
    uplink.start();
    for (let i = 0; i < week; i++) {
      uplink.enqueue(meterMessage(i));
      clock.advance(10_000);
      if (i % 360 === 359) uplink.flush();
    }
    uplink.flush();
    assert.equal(uplink.status().queued, week);
    assert.equal(uplink.status().connected, false);
    assert.equal(sub.messages.length, 0);
    await link.up(); // the broker is back
    await until(() => uplink.status().connected, 5000, 'the reconnection');
    // Live data while the backlog drains: it goes out first, ahead of the backlog.
    await until(() => sub.messages.length > 1000, 20_000, 'the drain to start');
    for (let k = 0; k < 20; k++) {
      uplink.enqueue(meterMessage(week + k, 'main'));
      uplink.flush();
      await sleep(25);
    }
    await sub.waitFor(week + 20, 120_000);
    await until(() => uplink.status().queued === 0, 60_000, 'an empty queue');
  } finally {
    await uplink.stop();
    await link.down();
    await sub.stop();
  }
  const mids = sub.messages.map((m) => m.mid);
  const backlog = sub.messages.filter((m) => m.topic.endsWith('/meter2')).map((m) => m.mid);
  assert.equal(new Set(mids).size, mids.length, 'no duplicates');
  assert.equal(backlog.length, week, 'every backlog message once');
  assert.deepEqual(
    backlog,
    [...backlog].sort((a, b) => a - b),
    'the backlog in order',
  );
  const ts = sub.messages.filter((m) => m.topic.endsWith('/meter2')).map((m) => resolvePack(decodeJson(m.payload), 0)[0]?.t ?? 0);
  assert.deepEqual(
    ts,
    Array.from({ length: week }, (_, i) => (T0 + i * 10_000) / 1000),
    'a week of 10 s readings, none missing',
  );
  const live = sub.messages.filter((m) => m.topic.endsWith('/main'));
  assert.equal(live.length, 20, 'every live message once');
  const lastLive = sub.messages.indexOf(live[live.length - 1] as Received);
  assert.ok(lastLive < sub.messages.length - 1000, `live data did not wait for the backlog (last live message at ${lastLive} of ${sub.messages.length})`);
  console.log(
    `outage replay: ${week} backlog messages + 20 live sent during the drain; the last live one arrived as message ${lastLive + 1} of ${sub.messages.length}`,
  );
});

test('kill -9 of the uplink process during replay loses nothing; duplicates carry the same id', async (t) => {
  if (!(await requireBroker(t))) return;
  const topicPrefix = prefix();
  const queuePath = path.join(tempDir(t), 'q.db');
  const total = 3000;
  const q = new UplinkQueue(queuePath, { maxMessages: 100_000 });
  for (let i = 0; i < total; i++) q.add(meterMessage(i));
  q.flush();
  q.close();
  const sub = await subscribe(`${topicPrefix}/kasese/#`);
  const child = fromRoot('dist/test/helpers/uplink-child.js');
  const run = (): ReturnType<typeof spawn> =>
    spawn(process.execPath, [child, queuePath, `mqtt://127.0.0.1:${BROKER_PORT}`, topicPrefix, 'kasese', '1500'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const first = run();
    await sub.waitFor(800, 20_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const seenAtKill = sub.messages.length;
    assert.ok(seenAtKill < total, 'killed during replay');
    const second = run();
    try {
      await until(() => new Set(sub.messages.map((m) => m.mid)).size >= total, 30_000, 'every id after the restart');
    } finally {
      second.kill('SIGKILL');
      await new Promise((r) => second.once('exit', r));
    }
    const ids = sub.messages.map((m) => m.mid);
    const unique = new Set(ids);
    assert.equal(unique.size, total, 'nothing lost');
    assert.deepEqual(
      [...unique].sort((a, b) => a - b),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    console.log(`kill -9 at ${seenAtKill} of ${total} received: ${ids.length - unique.size} duplicates after the restart, detected by id`);
  } finally {
    await sub.stop();
  }
});

test("the site file's uplink section wires the running site: simulated meters arrive as SenML with OBIS names", async (t) => {
  if (!(await requireBroker(t))) return;
  const topicPrefix = prefix();
  const dir = tempDir(t);
  const sub = await subscribe(`${topicPrefix}/#`);
  const sys = await startUplinkSite({
    siteId: 'upsite',
    dir,
    url: `mqtt://127.0.0.1:${BROKER_PORT}`,
    topicPrefix,
    clientId: `${topicPrefix}-s`,
    password: 'admin password 123',
    startAt: T0,
  });
  try {
    await until(
      () => sub.messages.some((m) => m.topic === `${topicPrefix}/upsite/meter2`) && sub.messages.some((m) => m.topic === `${topicPrefix}/upsite/meter100`),
      15_000,
      'both meters on the broker',
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; got ${JSON.stringify(sub.messages.map((m) => m.topic).slice(0, 10))}`);
    });
  } finally {
    await sys.close();
    await sub.stop();
  }
  const house = sub.messages.find((m) => m.topic === `${topicPrefix}/upsite/meter2`);
  const records = resolvePack(decodeJson(house?.payload ?? ''), 0);
  assert.ok(
    records.some((r) => r.n === 'upsite/meter2/1-0:32.7.0' && r.u === 'V' && typeof r.v === 'number'),
    JSON.stringify(records),
  );
  assert.ok(
    records.every((r) => r.t >= T0 / 1000 && r.t < T0 / 1000 + 60),
    "times from the system clock, not the machine's",
  );
});
