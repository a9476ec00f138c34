import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModbusClientClass } from '../src/modbus/client.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { decodeBlock, DEFAULT_SCALING } from '../src/drivers/point-codec.js';
import { startSimulator } from '../src/sim/simulator.js';
import { openPtyPair, requireTool } from './helpers/pty.js';

const T = Date.UTC(2026, 0, 15, 7, 10);

test('modbus-serial reads a DDSU666 over a socat pty pair (RTU, 9600 8N2)', async (t) => {
  if (!requireTool('socat', t)) return;
  const pty = await openPtyPair();
  const sim = await startSimulator({ seed: 21, customers: 4, clock: () => T, serialPaths: [pty.b] });
  const client = new ModbusClientClass();
  try {
    await client.connectRTUBuffered(pty.a, { baudRate: 9600, parity: 'none', stopBits: 2, dataBits: 8 });
    client.setTimeout(1000);
    client.setID(3);
    const meter = sim.meters.get(3) ?? assert.fail();
    const expected = sim.model.meterValues(3) ?? assert.fail();
    const [instant] = planBlocks(meter.profile);
    const block = instant ?? assert.fail();
    const { data } = await client.readHoldingRegisters(block.start, block.count);
    const decoded = decodeBlock(block, data, { ...DEFAULT_SCALING, wordOrder: meter.profile.wordOrder });
    assert.ok(Object.keys(decoded).length >= 6);
    for (const [channel, value] of Object.entries(decoded)) {
      const want = expected[channel] ?? NaN;
      assert.ok(Math.abs(value - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${channel}: ${value} vs ${want}`);
    }
    assert.deepEqual((await client.readHoldingRegisters(0x0006, 1)).data, [3]);
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await sim.close();
    await pty.close();
  }
});
