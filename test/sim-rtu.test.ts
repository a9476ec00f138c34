import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ModbusClientClass, type ModbusClient } from '../src/modbus/client.js';
import { withCrc } from '../src/modbus/crc.js';
import { charMs, t35Ms } from '../src/modbus/wire-time.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { decodeBlock, DEFAULT_SCALING } from '../src/drivers/point-codec.js';
import { startSimulator, simulatedMeterConfigs, type SimulatorHandle } from '../src/sim/simulator.js';

const T = Date.UTC(2026, 0, 15, 18, 30); // evening peak; the clock is frozen so values do not move
let sim: SimulatorHandle;
let client: ModbusClient;

async function connect(port: number, timeoutMs = 300): Promise<ModbusClient> {
  const c = new ModbusClientClass();
  await c.connectTelnet('127.0.0.1', { port });
  c.setTimeout(timeoutMs);
  return c;
}

const closeClient = (c: ModbusClient): Promise<void> => new Promise((resolve) => c.close(() => resolve()));

before(async () => {
  sim = await startSimulator({ seed: 11, customers: 12, clock: () => T, mbapPort: 0 });
  client = await connect(sim.rtuTcpPort);
});

after(async () => {
  await closeClient(client);
  await sim.close();
});

const near = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: read ${actual}, model ${expected}`);

test('meter configs for a demo site list the main meter and every customer', () => {
  assert.ok(sim.rtuTcpPort > 0 && (sim.mbapPort ?? 0) > 0, 'port 0 binds a free port and reports it');
  const configs = simulatedMeterConfigs(12);
  assert.equal(configs.length, 13);
  assert.deepEqual(configs[0], { id: 100, name: 'main', type: '3phase', role: 'main' });
  assert.deepEqual(configs[1], { id: 2, name: 'house_02', type: '1phase', role: 'customer' });
  assert.equal(configs.find((c) => c.id === 5)?.name, 'shop_05');
});

test('reading every block of the profile over RTU-over-TCP gives the model values (FC03 and FC04)', async () => {
  for (const id of [2, 5, 100]) {
    const meter = sim.meters.get(id) ?? assert.fail(`meter ${id}`);
    const expected = sim.model.meterValues(id) ?? assert.fail();
    client.setID(id);
    let seen = 0;
    for (const block of planBlocks(meter.profile)) {
      for (const read of [client.readHoldingRegisters.bind(client), client.readInputRegisters.bind(client)]) {
        const { data } = await read(block.start, block.count);
        const decoded = decodeBlock(block, data, { ...DEFAULT_SCALING, wordOrder: meter.profile.wordOrder });
        for (const [channel, value] of Object.entries(decoded)) {
          near(value, expected[channel] ?? NaN, `meter ${id} ${channel}`);
          seen++;
        }
      }
    }
    assert.ok(seen >= (id === 100 ? 2 * 24 : 2 * 8), `meter ${id}: ${seen} values checked`);
  }
});

function rawExchange(frame: Buffer, waitMs = 150): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(sim.rtuTcpPort, '127.0.0.1', () => socket.write(frame));
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, waitMs);
  });
}

test('a request with a corrupted CRC gets no reply and is counted; the bus resynchronises', async () => {
  const good = withCrc(Buffer.from([2, 3, 0x20, 0x00, 0x00, 0x02]));
  const bad = Buffer.from(good);
  bad.writeUInt8(bad.readUInt8(6) ^ 0x01, 6);
  const before = sim.slave.counters().crcErrors;
  assert.equal((await rawExchange(bad)).length, 0);
  assert.equal(sim.slave.counters().crcErrors, before + 1);
  const reply = await rawExchange(Buffer.concat([Buffer.from([0x00, 0xff]), good]));
  assert.equal(reply.length, 9, 'garbage then a good request: answered');
});

test('exception codes: 01 illegal function, 02 illegal address, 03 illegal value', async () => {
  client.setID(2);
  await assert.rejects(client.readCoils(0, 1), (e: { modbusCode?: number }) => e.modbusCode === 1);
  await assert.rejects(client.readHoldingRegisters(0x3000, 2), (e: { modbusCode?: number }) => e.modbusCode === 2);
  await assert.rejects(client.writeRegister(0x2000, 1), (e: { modbusCode?: number }) => e.modbusCode === 2);
  const tooMany = await rawExchange(withCrc(Buffer.from([2, 3, 0x20, 0x00, 0x00, 0x7e])));
  assert.deepEqual([...tooMany.subarray(0, 3)], [2, 0x83, 3]);
});

test('an unknown address and a silenced meter time out; restore brings it back', async () => {
  client.setID(77);
  await assert.rejects(client.readHoldingRegisters(0x2000, 2), { errno: 'ETIMEDOUT' });
  sim.slave.silence(3);
  client.setID(3);
  await assert.rejects(client.readHoldingRegisters(0x2000, 2), { errno: 'ETIMEDOUT' });
  sim.slave.restore(3);
  assert.equal((await client.readHoldingRegisters(0x2000, 2)).data.length, 2);
  assert.ok(sim.slave.counters().silenced >= 1 && sim.slave.counters().ignored >= 1);
});

test('a meter in corrupt mode sends frames the client rejects', async () => {
  sim.slave.corrupt(4);
  client.setID(4);
  await assert.rejects(client.readHoldingRegisters(0x2000, 2), /CRC/);
  sim.slave.restore(4);
  assert.equal((await client.readHoldingRegisters(0x2000, 2)).data.length, 2);
});

test('writing the address register moves a meter to its new address (commissioning)', async () => {
  client.setID(6);
  await client.writeRegister(0x0006, 60); // DDSU666 address register; the reply still comes from 6
  client.setID(60);
  assert.deepEqual((await client.readHoldingRegisters(0x0006, 1)).data, [60]);
  client.setID(6);
  await assert.rejects(client.readHoldingRegisters(0x0006, 1), { errno: 'ETIMEDOUT' });
  client.setID(60);
  await client.writeRegisters(0x0006, [6]); // FC16 back
  client.setID(6);
  assert.deepEqual((await client.readHoldingRegisters(0x0006, 1)).data, [6]);
});

test('two meters on one address collide: the master gets a broken frame', async () => {
  const seven = sim.meters.get(7) ?? assert.fail();
  assert.equal(seven.writeRegisters(0x0006, [8]), undefined); // a meter shipped with a duplicate address
  try {
    client.setID(8);
    await assert.rejects(client.readHoldingRegisters(0x2000, 2), /CRC/);
    assert.ok(sim.slave.counters().collisions >= 1);
  } finally {
    seven.writeRegisters(0x0006, [7]);
  }
  assert.equal((await client.readHoldingRegisters(0x2000, 2)).data.length, 2);
});

test('Modbus TCP (MBAP) serves the same bus', async () => {
  const c = new ModbusClientClass();
  await c.connectTCP('127.0.0.1', { port: sim.mbapPort ?? 0 });
  c.setTimeout(500);
  c.setID(100);
  const { data } = await c.readInputRegisters(0x002c, 3);
  assert.deepEqual(data, [2, 3, 100]);
  c.setID(90);
  await assert.rejects(c.readHoldingRegisters(0x2000, 2), (e: { modbusCode?: number }) => e.modbusCode === 0x0b);
  await closeClient(c);
});

test('line-speed emulation: a 16-register read at 9600 8N2 takes at least its wire time', async () => {
  const line = { baudRate: 9600, parity: 'none' as const, stopBits: 2 as const, turnaroundMs: 5 };
  const slow = await startSimulator({ seed: 11, customers: 3, clock: () => T, lineSpeed: line });
  const c = await connect(slow.rtuTcpPort, 1000);
  try {
    c.setID(100);
    const char = charMs(line);
    const t35 = t35Ms(line);
    const one = (8 + 37) * char + t35 + line.turnaroundMs; // request + t3.5 + turnaround + response
    const n = 5;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await c.readHoldingRegisters(0x2000, 16);
      assert.ok(performance.now() - t0 >= one, `read ${i} took ${performance.now() - t0} ms, wire time ${one} ms`);
    }
    // Back to back, each later request also waits for the t3.5 after the previous reply.
    const total = performance.now() - start;
    assert.ok(total >= n * one + (n - 1) * t35, `${n} reads took ${total} ms`);
  } finally {
    await closeClient(c);
    await slow.close();
  }
});
