import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ProcessImage } from '../src/channels/process-image.js';
import { LiveFeed } from '../src/site/live-feed.js';
import { manualClock } from '../src/util/clock.js';
import { startUplink } from '../src/uplink/index.js';
import { decodeJson } from '../src/uplink/senml.js';
import { uplinkConfigSchema } from '../src/uplink/uplink-config.js';
import { BROKER_HOST, BROKER_PORT, requireBroker, subscribe, type Received } from './helpers/mqtt-peer.js';

/**
 * Home Assistant MQTT discovery against the machine's Mosquitto, read back with mosquitto_sub: the
 * retained config messages, their fields, and that each value_template names a record of the SenML pack
 * on its state topic. A discovery prefix of the test's own keeps the broker's real `homeassistant/` clean.
 */
const T0 = Date.UTC(2027, 6, 31, 20, 30, 0);

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface HaConfig {
  name: string;
  unique_id: string;
  device_class?: string;
  unit_of_measurement?: string;
  state_class: string;
  state_topic: string;
  value_template: string;
  availability_topic: string;
  device: { identifiers: string[]; name: string };
}

test('Home Assistant discovery: retained sensor configs per channel with device class, unit, state class, availability and a template that reads the SenML pack', async (t) => {
  if (!(await requireBroker(t))) return;
  const tag = randomBytes(4).toString('hex');
  const topicPrefix = `mgostest-${tag}`;
  const discoveryPrefix = `mgostest-ha-${tag}`;
  const site = `ha${tag}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-ha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configs = await subscribe(`${discoveryPrefix}/#`, { withoutMid: true });
  const telemetry = await subscribe(`${topicPrefix}/${site}/meter2`);
  const clock = manualClock(T0);
  const image = new ProcessImage(clock);
  image.update('meter2', { ActivePower: -7536, Voltage_L1: 230.2, EnergyImport: 478490.12, ReactivePower: 15, PowerFactor: 0.98 }, T0, 10_000);
  const config = uplinkConfigSchema.parse({
    url: `mqtt://${BROKER_HOST}:${BROKER_PORT}`,
    topicPrefix,
    clientId: `${topicPrefix}-ha`,
    telemetry: { periodMs: 3_600_000 },
    queue: { flushDelayMs: 50 },
    homeAssistant: { enabled: true, discoveryPrefix },
  });
  const up = startUplink({ config, siteId: site, storagePath: path.join(dir, 'mgos.db'), image, live: new LiveFeed(), clock });
  const node = `mgos_${site}_meter2`;
  let late: Awaited<ReturnType<typeof subscribe>> | null = null;
  try {
    await until(() => up.status().connected, 5000, 'the connection');
    up.telemetry.periodic();
    await configs.waitFor(5, 5000);
    await telemetry.waitFor(1, 5000);
    // Retained: a subscriber that comes later still gets every config.
    late = await subscribe(`${discoveryPrefix}/#`, { withoutMid: true });
    await late.waitFor(5, 5000);
  } finally {
    await up.stop();
    await configs.stop();
    await telemetry.stop();
    await late?.stop();
    // Clear the retained configs (an empty retained message deletes one).
    for (const m of configs.messages) execFileSync('mosquitto_pub', ['-h', BROKER_HOST, '-p', String(BROKER_PORT), '-t', m.topic, '-r', '-n']);
  }
  const byTopic = new Map<string, HaConfig>(configs.messages.map((m: Received) => [m.topic, JSON.parse(m.payload) as HaConfig]));
  assert.deepEqual(
    [...byTopic.keys()].sort(),
    ['ActivePower', 'EnergyImport', 'PowerFactor', 'ReactivePower', 'Voltage_L1'].map((c) => `${discoveryPrefix}/sensor/${node}/${c}/config`),
  );
  const of = (channel: string): HaConfig => {
    const c = byTopic.get(`${discoveryPrefix}/sensor/${node}/${channel}/config`);
    assert.ok(c, channel);
    return c;
  };
  assert.equal(of('ActivePower').device_class, 'power');
  assert.equal(of('ActivePower').unit_of_measurement, 'W');
  assert.equal(of('ActivePower').state_class, 'measurement');
  assert.equal(of('Voltage_L1').device_class, 'voltage');
  assert.equal(of('EnergyImport').device_class, 'energy');
  assert.equal(of('EnergyImport').unit_of_measurement, 'kWh');
  assert.equal(of('EnergyImport').state_class, 'total_increasing');
  assert.equal(of('ReactivePower').device_class, 'reactive_power');
  assert.equal(of('PowerFactor').device_class, 'power_factor');
  assert.equal(of('PowerFactor').unit_of_measurement, undefined, 'a power factor is a ratio');
  const pack = decodeJson(telemetry.messages[0]?.payload ?? '');
  for (const c of byTopic.values()) {
    assert.equal(c.unique_id, `${node}_${c.unique_id.slice(node.length + 1)}`);
    assert.equal(c.state_topic, `${topicPrefix}/${site}/meter2`);
    assert.equal(c.availability_topic, `${topicPrefix}/${site}/status`, 'the status topic: online, or offline as the will');
    assert.deepEqual(c.device.identifiers, [node]);
    // The template picks the record whose n is the channel's SenML name, and its unit is the sensor's.
    const name = /r\.n == '([^']+)'/.exec(c.value_template)?.[1];
    const record = pack.find((r) => r.n === name);
    assert.ok(record && typeof record.v === 'number', `${c.name}: template ${c.value_template} names a record of ${JSON.stringify(pack)}`);
    if (c.unit_of_measurement) assert.equal(record.u, c.unit_of_measurement);
  }
  assert.match(of('EnergyImport').value_template, /'1-0:1\.8\.0'/, 'OBIS names in the template when the pack has them');
  assert.equal(late.messages.length, 5, 'all retained');
});

test('Home Assistant discovery is off by default and needs JSON packs', () => {
  const base = { url: 'mqtt://127.0.0.1:1883' };
  assert.equal(uplinkConfigSchema.parse(base).homeAssistant.enabled, false);
  assert.throws(() => uplinkConfigSchema.parse({ ...base, format: 'cbor', homeAssistant: { enabled: true } }), /homeAssistant needs format: json/);
});
