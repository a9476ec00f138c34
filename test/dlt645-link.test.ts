import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serialToAddress } from '../src/dlt645/address.js';
import { encodeEnergy } from '../src/dlt645/bcd.js';
import { buildFrame, CONTROL, parseFrame } from '../src/dlt645/frame.js';
import { Dlt645Error, Dlt645Link } from '../src/dlt645/link.js';
import { DI, readDataReply } from '../src/dlt645/messages.js';
import { ModbusClientClass, type ModbusClient } from '../src/modbus/client.js';
import { serveBench } from '../src/sim/bench-server.js';
import { openPtyPair, requireTool } from './helpers/pty.js';

const SERIAL = '200322016690';

async function modbus(port: number): Promise<ModbusClient> {
  const c = new ModbusClientClass();
  await c.connectTelnet('127.0.0.1', { port });
  c.setTimeout(300);
  return c;
}
const closeClient = (c: ModbusClient): Promise<void> => new Promise((resolve) => c.close(() => resolve()));

async function rejection(p: Promise<unknown>): Promise<Dlt645Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Dlt645Error, String(e));
    return e;
  }
  return assert.fail('expected a DL/T645 error');
}

/** A raw TCP peer that answers each request with whatever `answer` returns. */
async function rawPeer(
  answer: (request: Buffer, socket: net.Socket) => void,
  onConnect?: (socket: net.Socket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    onConnect?.(s);
    s.on('data', (d: Buffer) => answer(d, s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

test('a factory-fresh DDSU666 answers DL/T645 read-address and read-energy over TCP; unknown DIs get 0xD1/02', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: SERIAL, energyKWh: 12345.67 });
  const link = await Dlt645Link.openTcp('127.0.0.1', bench.port, { timeoutMs: 500 });
  try {
    assert.equal(await link.readAddress(), SERIAL);
    assert.equal(await link.readEnergy(SERIAL), 12345.67);
    const unknown = await rejection(link.readData(SERIAL, 0x02010100));
    assert.equal(unknown.kind, 'error-reply');
    assert.equal(unknown.errorByte, 0x02);
    assert.match(unknown.message, /no such data item/);
    // Another meter's address: silence, and the timeout says what was asked.
    const other = await rejection(link.readEnergy('000000000001'));
    assert.equal(other.kind, 'timeout');
    assert.match(other.message, /no DL\/T645 reply to read \(0x11\) for 01 00 00 00 00 00 within 500 ms/);
    assert.equal(bench.meter.counters.dlt645Replies, 3);
  } finally {
    await link.close();
    await bench.close();
  }
});

test('no DL/T645 frame switches the protocol; the front panel does (password 701), and then Modbus answers at 1', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: SERIAL, energyKWh: 10 });
  const link = await Dlt645Link.openTcp('127.0.0.1', bench.port, { timeoutMs: 300 });
  const client = await modbus(bench.port);
  try {
    const write = buildFrame({ address: serialToAddress(SERIAL), control: CONTROL.write, data: Buffer.from([0x00, 0x00, 0x00, 0x04, 0x02]) });
    const refused = await link.request(write);
    assert.equal(refused.control, 0xd4);
    assert.equal(bench.meter.protocol, '645');
    client.setID(1);
    await assert.rejects(
      client.readHoldingRegisters(0x0006, 1),
      (e: { message?: string }) => /timed out/i.test(e.message ?? ''),
      'a DL/T645 meter ignores Modbus',
    );
    assert.throws(() => bench.meter.frontPanel.setProtocol('n.2', 1234), /wrong password/);
    bench.meter.frontPanel.setProtocol('n.2', 701);
    assert.deepEqual((await client.readHoldingRegisters(0x0006, 1)).data, [1]);
    assert.equal((await rejection(link.readAddress())).kind, 'timeout', 'a Modbus meter ignores DL/T645');
    assert.ok(bench.slave.benchCounters().wrongProtocol >= 2);
  } finally {
    await closeClient(client);
    await link.close();
    await bench.close();
  }
});

test('a DTSU666 in Modbus mode moves with 0x002E (also to 104 = 0x68) and goes back to DL/T645 with 0x002C = 1', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456', energyKWh: 5 });
  const client = await modbus(bench.port);
  try {
    bench.meter.frontPanel.setProtocol('n.2');
    client.setID(1);
    assert.deepEqual((await client.readHoldingRegisters(0x002c, 3)).data, [2, 3, 1], 'protocol n.2, 9600 baud, address 1');
    await client.writeRegisters(0x002e, [104]);
    client.setID(104); // requests now start with 0x68, like a DL/T645 frame
    assert.deepEqual((await client.readHoldingRegisters(0x002e, 1)).data, [104]);
    assert.deepEqual((await client.readHoldingRegisters(0x0006, 1)).data, [1], 'the CT ratio is untouched');
    await client.writeRegisters(0x002c, [1]);
    assert.equal(bench.meter.protocol, '645');
    const link = await Dlt645Link.openTcp('127.0.0.1', bench.port, { timeoutMs: 300 });
    try {
      assert.equal(await link.readAddress(), '200415023456');
    } finally {
      await link.close();
    }
  } finally {
    await closeClient(client);
    await bench.close();
  }
});

test('the link skips a stale reply sent before the request, and reports a broken reply by its checksum', async () => {
  const addr = serialToAddress(SERIAL);
  const reply = (kWh: number): Buffer => readDataReply(addr, DI.activeImportTotal, encodeEnergy(kWh));
  let broken = false;
  const peer = await rawPeer(
    (req, s) => {
      assert.ok(parseFrame(req).ok);
      const r = reply(2);
      if (broken) r[r.length - 2] = 0x00;
      s.write(r);
    },
    (s) => s.write(reply(1)),
  );
  const link = await Dlt645Link.openTcp('127.0.0.1', peer.port, { timeoutMs: 300 });
  try {
    await new Promise((r) => setTimeout(r, 50)); // the stale frame has arrived
    assert.equal(await link.readEnergy(SERIAL), 2);
    broken = true;
    const e = await rejection(link.readEnergy(SERIAL));
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /bytes received were rejected: byte \d+ \(CS\): checksum mismatch: computed 0x[0-9A-F]{2}, frame has 0x00/);
  } finally {
    await link.close();
    await peer.close();
  }
});

test('a silent line gives a timeout that names the request', async () => {
  const peer = await rawPeer(() => undefined);
  const link = await Dlt645Link.openTcp('127.0.0.1', peer.port, { timeoutMs: 200 });
  try {
    const e = await rejection(link.readAddress());
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /^no DL\/T645 reply to read-address \(0x13\) for AA AA AA AA AA AA within 200 ms on tcp 127\.0\.0\.1:\d+$/);
  } finally {
    await link.close();
    await peer.close();
  }
});

test('DL/T645 over a socat pty pair at 9600 E.1 (serialport), factory meter on the other end', async (t) => {
  if (!requireTool('socat', t)) return;
  const pty = await openPtyPair();
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456', energyKWh: 321.09 }, { serialPaths: [pty.b] });
  const link = await Dlt645Link.openSerial(pty.a, undefined, { timeoutMs: 1000 });
  try {
    assert.match(link.description, /9600 8E1$/);
    assert.equal(await link.readAddress(), '200415023456');
    assert.equal(await link.readEnergy('200415023456'), 321.09);
  } finally {
    await link.close();
    await bench.close();
    await pty.close();
  }
});
