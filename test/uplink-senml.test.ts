import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ProcessImage } from '../src/channels/process-image.js';
import { manualClock } from '../src/util/clock.js';
import { channelOfName, OBIS, senmlValue } from '../src/uplink/names.js';
import { encodePayload, toPack, type PayloadOptions } from '../src/uplink/payload.js';
import { UplinkQueue, type NewMessage } from '../src/uplink/queue.js';
import { decodeCbor, decodeJson, encodeCbor, encodeJson, resolvePack, SenmlError } from '../src/uplink/senml.js';
import { TelemetryPublisher } from '../src/uplink/telemetry.js';
import { uplinkConfigSchema } from '../src/uplink/uplink-config.js';

const T0 = Date.UTC(2027, 2, 14, 9, 0, 0); // a fixed instant: nothing here depends on today's date
const OPTS: PayloadOptions = { siteId: 'kasese', topicPrefix: 'mgos', format: 'json', names: 'obis', energyUnit: 'kWh' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-uplink-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('RFC 8428 example packs resolve: base name, base time, base unit, relative time', () => {
  // RFC 8428 §5.1.2-style: two records sharing a base.
  const pack = decodeJson(
    '[{"bn":"urn:dev:ow:10e2073a01080063:","bt":1.320067464e+09,"bu":"%RH","v":20},{"u":"lon","v":24.30621},{"u":"lat","v":60.07965},{"t":60,"v":20.3},{"n":"x","t":-5,"vs":"ok"}]',
  );
  const r = resolvePack(pack, 0);
  assert.equal(r.length, 5);
  assert.deepEqual(r[0], { n: 'urn:dev:ow:10e2073a01080063:', t: 1.320067464e9, u: '%RH', v: 20 });
  assert.equal(r[1]?.u, 'lon');
  assert.equal(r[3]?.t, 1.320067464e9 + 60);
  assert.deepEqual(r[4], { n: 'urn:dev:ow:10e2073a01080063:x', t: 1.320067464e9 - 5, u: '%RH', vs: 'ok' });
  // A time below 2^28 is relative to now.
  assert.equal(resolvePack([{ n: 'a', t: -10, v: 1 }], 1.8e9)[0]?.t, 1.8e9 - 10);
});

test('decoding names the record and the field of every error', () => {
  const err = (text: string): SenmlError => {
    try {
      resolvePack(decodeJson(text), 1.8e9);
    } catch (e) {
      assert.ok(e instanceof SenmlError, String(e));
      return e;
    }
    assert.fail(`accepted ${text}`);
  };
  assert.match(err('[{"n":"a","v":1},{"n":"b","v":"12"}]').message, /record 1, field v: .*number/);
  assert.match(err('[{"n":"a","v":1,"vs":"x"}]').message, /record 0, field vs: a record carries one value/);
  assert.match(err('[{"n":"a"}]').message, /record 0, field v: the record has no value/);
  assert.match(err('[{"n":"a b","v":1}]').message, /record 0, field n: name "a b"/);
  assert.match(err('[{"v":1}]').message, /record 0, field n: the name \(bn \+ n\) is empty/);
  assert.match(err('[{"n":"a","v":1,"new_":2}]').message, /record 0, field new_: a must-understand field/);
  assert.match(err('{"n":"a"}').message, /record 0, field \(pack\): a SenML pack is an array/);
  assert.match(err('[{"n":"a","v":1},{"n":"b","bt":"x","v":1}]').message, /record 1, field bt/);
  // Unknown fields without "_" are ignored.
  assert.equal(resolvePack(decodeJson('[{"n":"a","v":1,"foo":2}]'), 0)[0]?.v, 1);
});

test('CBOR uses the RFC 8428 integer labels and round-trips; float32 readings take 4 bytes', () => {
  const pack = [
    { bn: 'kasese/meter12/', bt: 1.8e9, n: '1-0:16.7.0', u: 'W', v: 230.5 },
    { n: '1-0:1.8.0', u: 'kWh', v: 478490.123 },
    { n: 'on', vb: true },
  ];
  const bytes = encodeCbor(pack);
  // Array of 3 maps; the first map's first key is bn = -2 (0x21).
  assert.equal(bytes[0], 0x83);
  assert.equal(bytes[2], 0x21);
  assert.deepEqual(decodeCbor(bytes), pack);
  assert.ok(bytes.length < Buffer.byteLength(encodeJson(pack)), 'CBOR is smaller than JSON');
  assert.throws(() => decodeCbor(Buffer.from([0x81, 0xa1, 0x02, 0x61, 0x41])), /record 0, field v/);
});

test('meter channels get OBIS names and registered SenML units; energy in kWh, Wh or J', () => {
  assert.equal(OBIS.ActivePower, '1-0:16.7.0');
  assert.equal(OBIS.Voltage_L1, '1-0:32.7.0');
  assert.equal(OBIS.EnergyImport, '1-0:1.8.0');
  assert.equal(channelOfName('1-0:2.8.0'), 'EnergyExport');
  assert.deepEqual(senmlValue('EnergyImport', 12.5, 'kWh'), { unit: 'kWh', value: 12.5 });
  assert.deepEqual(senmlValue('EnergyImport', 12.5, 'Wh'), { unit: 'Wh', value: 12500 });
  assert.deepEqual(senmlValue('EnergyImport', 12.5, 'J'), { unit: 'J', value: 45_000_000 });
  assert.deepEqual(senmlValue('PowerFactor', 0.98, 'kWh'), { unit: '/', value: 0.98 });
  assert.deepEqual(senmlValue('Soc', 61, 'kWh'), { unit: '%EL', value: 61 });
  assert.deepEqual(senmlValue('BatteryTemperature', 31, 'kWh'), { unit: 'Cel', value: 31 });
  const m: NewMessage = {
    component: 'meter12',
    ts: T0,
    channels: ['ActivePower', 'Voltage_L1', 'ReactivePower', 'EnergyImport'],
    values: [-7536, 230.2, 12, 478490.12],
    times: [T0, T0, T0, T0 - 50_000],
  };
  const pack = toPack(m, OPTS);
  assert.deepEqual(pack[0], { bn: 'kasese/meter12/', bt: T0 / 1000, n: '1-0:16.7.0', u: 'W', v: -7536 });
  assert.deepEqual(pack[2], { n: 'ReactivePower', u: 'var', v: 12 });
  assert.deepEqual(pack[3], { n: '1-0:1.8.0', u: 'kWh', v: 478490.12, t: -50 });
  const resolved = resolvePack(decodeJson(encodePayload(m, OPTS).payload), 0);
  assert.deepEqual(resolved[3], { n: 'kasese/meter12/1-0:1.8.0', t: T0 / 1000 - 50, u: 'kWh', v: 478490.12 });
  assert.equal(toPack(m, { ...OPTS, names: 'channel' })[0]?.n, 'ActivePower');
});

test('the queue keeps messages across reopening, in order, compactly; acks delete in the next batch', (t) => {
  const file = path.join(tempDir(t), 'q.db');
  let q = new UplinkQueue(file, { maxMessages: 1000 });
  const msg = (i: number): NewMessage => ({
    component: `meter${i % 3}`,
    ts: T0 + i * 10_000,
    channels: ['ActivePower', 'Voltage_L1', 'EnergyImport'],
    values: [i * 1.5, 230.2, 1000 + i / 100],
  });
  for (let i = 0; i < 10; i++) q.add(msg(i));
  assert.equal(q.read(0, 1e9, 100).length, 0, 'nothing is readable (or sendable) before the batch commits');
  const added = q.flush();
  assert.deepEqual(
    added.map((m) => m.id),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  q.ack(1);
  q.ack(2);
  q.close();
  q = new UplinkQueue(file, { maxMessages: 1000 });
  const back = q.read(0, q.maxId(), 100);
  assert.deepEqual(
    back.map((m) => m.id),
    [3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.deepEqual(back[0], { id: 3, ...msg(2) });
  // Ids are never reused, even when the queue empties.
  for (const m of back) q.ack(m.id);
  q.add(msg(99));
  assert.deepEqual(
    q.flush().map((m) => m.id),
    [11],
  );
  assert.equal(q.size, 1);
  q.close();
});

test('a full queue drops its oldest messages, counts them and says so', (t) => {
  const drops: Array<[number, number]> = [];
  const q = new UplinkQueue(path.join(tempDir(t), 'q.db'), { maxMessages: 100, onDrop: (n, total) => drops.push([n, total]) });
  for (let i = 0; i < 130; i++) q.add({ component: 'm', ts: T0 + i, channels: ['ActivePower'], values: [i] });
  q.flush();
  for (let i = 0; i < 5; i++) q.add({ component: 'm', ts: T0 + 200 + i, channels: ['ActivePower'], values: [i] });
  q.flush();
  assert.deepEqual(drops, [
    [30, 30],
    [5, 35],
  ]);
  assert.equal(q.size, 100);
  assert.equal(q.read(0, 1e9, 1)[0]?.id, 36);
  assert.equal(q.dropped, 35);
  q.close();
});

test('size: a week of 10 s telemetry for 100 meters fits the default bound (estimate printed)', (t) => {
  const q = new UplinkQueue(path.join(tempDir(t), 'q.db'), { maxMessages: 10_000_000 });
  const ddsu = ['ActivePower', 'ReactivePower', 'ApparentPower', 'PowerFactor', 'Frequency', 'Voltage_L1', 'Current_L1', 'EnergyImport', 'EnergyExport'];
  const periods = 60; // 10 minutes of 100 meters
  for (let p = 0; p < periods; p++) {
    for (let m = 0; m < 100; m++) q.add({ component: `meter${m + 2}`, ts: T0 + p * 10_000, channels: ddsu, values: ddsu.map((_, i) => 100 * m + p + i / 10) });
    q.flush();
  }
  const perMessage = q.bytesUsed() / (periods * 100);
  const week = 7 * 8640 * 100;
  const weekMb = (perMessage * week) / 1e6;
  console.log(
    `uplink queue: ${perMessage.toFixed(1)} bytes per message (one meter's 9 channels), a week for 100 meters = ${week.toLocaleString('en')} messages = ${weekMb.toFixed(0)} MB`,
  );
  assert.ok(week <= uplinkConfigSchema.parse({ url: 'mqtt://x:1883' }).queue.maxMessages, 'the default bound holds a week');
  assert.ok(weekMb < 1000, `a week takes ${weekMb.toFixed(0)} MB`);
  q.close();
});

test('telemetry: a period publishes every GOOD channel in one batch; between periods only changes beyond the deadband', () => {
  const clock = manualClock(T0);
  const image = new ProcessImage(clock);
  image.update('meter2', { ActivePower: 100, Voltage_L1: 230, EnergyImport: 5 }, T0, 10_000);
  const out: NewMessage[] = [];
  let flushes = 0;
  const pub = new TelemetryPublisher(
    { componentNames: () => image.componentNames(), component: (c) => image.component(c), subscribe: () => () => undefined },
    { enqueue: (m) => out.push(m), flush: () => flushes++ },
    { periodMs: 10_000, changes: true, deadbands: { W: 50, V: 2 }, energyUnit: 'kWh', clock },
  );
  assert.equal(pub.periodic(), 1);
  assert.equal(flushes, 1);
  assert.deepEqual(out[0], { component: 'meter2', ts: T0, channels: ['ActivePower', 'Voltage_L1', 'EnergyImport'], values: [100, 230, 5] });
  clock.advance(1000);
  image.update('meter2', { ActivePower: 120, Voltage_L1: 233, EnergyImport: 5.01 }, T0 + 1000, 10_000);
  assert.equal(pub.changed(['meter2']), 1);
  assert.deepEqual(out[1]?.channels, ['Voltage_L1', 'EnergyImport'], '20 W is inside the 50 W deadband');
  image.markFailed('meter2', T0 + 2000);
  assert.equal(pub.changed(['meter2']), 0, 'ERROR values are not published');
});
