import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles } from '../src/drivers/profiles.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { decodeBlock, DEFAULT_SCALING } from '../src/drivers/point-codec.js';
import { SimulatedMeter } from '../src/sim/meter-image.js';
import { isRefusal, type ModbusRefusal } from '../src/sim/device.js';
import { servePdu } from '../src/sim/pdu.js';

const profiles = loadProfiles();
const ddsu = profiles.get('DDSU666') ?? assert.fail('DDSU666 profile');
const dtsu = profiles.get('DTSU666') ?? assert.fail('DTSU666 profile');

const single = {
  Voltage_L1: 230.2,
  Current_L1: 2.5,
  ActivePower: 560.5,
  ReactivePower: 120.25,
  PowerFactor: 0.97,
  Frequency: 50.01,
  EnergyImport: 1234.5,
  EnergyExport: 12.25,
};

const words = (r: number[] | ModbusRefusal): number[] => (isRefusal(r) ? assert.fail(`exception ${r.exception}`) : r);

test('the image is what the driver decodes back to the engineering values', () => {
  const meter = new SimulatedMeter({ profile: ddsu, address: 7, values: () => single });
  for (const block of planBlocks(ddsu)) {
    const decoded = decodeBlock(block, words(meter.readRegisters(3, block.start, block.count)), { ...DEFAULT_SCALING, wordOrder: ddsu.wordOrder });
    for (const [channel, value] of Object.entries(decoded)) {
      const expected = single[channel as keyof typeof single];
      assert.ok(Math.abs(value - expected) <= 1e-6 * Math.abs(expected), `${channel}: ${value} vs ${expected}`);
    }
  }
  // Tasmota's example frame 01 04 04 43 66 33 34 = 230.2 V (Tasmota xnrg_11_ddsu666.ino); 230.2 itself
  // rounds to the neighbouring float 0x43663333.
  const [hi, lo = 0] = words(meter.readRegisters(4, 0x2000, 2));
  assert.equal(hi, 0x4366);
  assert.ok(Math.abs(lo - 0x3334) <= 1);
  assert.deepEqual(words(meter.readRegisters(3, 0x0006, 1)), [7]);
});

test('DTSU666 holds raw scaled values and its configuration registers', () => {
  const meter = new SimulatedMeter({ profile: dtsu, address: 100, values: () => ({ Voltage_L1: 230.2 }) });
  const [hi = 0, lo = 0] = words(meter.readRegisters(4, 0x2006, 2));
  const raw = Buffer.alloc(4);
  raw.writeUInt16BE(hi, 0);
  raw.writeUInt16BE(lo, 2);
  assert.ok(Math.abs(raw.readFloatBE(0) - 2302) < 1e-3, 'voltage raw = V x 10');
  assert.deepEqual(words(meter.readRegisters(3, 0x002c, 3)), [2, 3, 100]); // protocol n.2, 9600, address
  assert.deepEqual(words(meter.readRegisters(3, 0x0006, 2)), [1, 10]); // IrAt (CT ratio), UrAt
  assert.equal(words(meter.readRegisters(3, 0x0001, 1))[0], 701);
  assert.deepEqual(words(meter.readRegisters(3, 0x2046, 2)), [0, 0], 'unmapped registers in a served window read 0');
});

test('reads outside the served windows are exception 02', () => {
  const meter = new SimulatedMeter({ profile: ddsu, address: 7, values: () => single });
  assert.deepEqual(meter.readRegisters(3, 0x3000, 2), { exception: 2 });
  assert.deepEqual(meter.readRegisters(3, 0x200e, 40), { exception: 2 });
});

test('only configuration registers are writable; writing the address moves the meter', () => {
  const meter = new SimulatedMeter({ profile: dtsu, address: 100, values: () => ({}) });
  assert.deepEqual(meter.writeRegisters(0x2000, [1]), { exception: 2 }, 'measurement register');
  assert.deepEqual(meter.writeRegisters(0x0000, [1]), { exception: 2 }, 'read-only REV');
  assert.deepEqual(meter.writeRegisters(0x002e, [0]), { exception: 3 }, 'address 0 is not allowed');
  assert.deepEqual(meter.writeRegisters(0x002d, [4, 300]), { exception: 3 }, 'all or nothing');
  assert.equal(meter.configValue(0x002d), 3);
  assert.equal(meter.writeRegisters(0x0006, [5]), undefined);
  assert.equal(meter.configValue(0x0006), 5, 'IrAt stored');
  assert.equal(meter.address, 100, '0x0006 is the CT ratio on a DTSU666, not the address');
  assert.equal(meter.writeRegisters(0x002e, [101]), undefined);
  assert.equal(meter.address, 101);
  assert.deepEqual(words(meter.readRegisters(3, 0x002e, 1)), [101]);
});

test('PDUs: FC06 echoes, FC16 answers start and count, unknown FC is exception 01', () => {
  const meter = new SimulatedMeter({ profile: ddsu, address: 7, values: () => single });
  const fc06 = Buffer.from([0x06, 0x00, 0x06, 0x00, 0x09]);
  assert.deepEqual(servePdu(meter, fc06), fc06);
  assert.equal(meter.address, 9);
  assert.deepEqual(servePdu(meter, Buffer.from([0x10, 0x00, 0x06, 0x00, 0x01, 0x02, 0x00, 0x0a])), Buffer.from([0x10, 0x00, 0x06, 0x00, 0x01]));
  assert.equal(meter.address, 10);
  assert.deepEqual(servePdu(meter, Buffer.from([0x01, 0x00, 0x00, 0x00, 0x01])), Buffer.from([0x81, 0x01]));
  assert.deepEqual(servePdu(meter, Buffer.from([0x03, 0x20, 0x00, 0x00, 0x7e])), Buffer.from([0x83, 0x03]), '126 registers');
  assert.deepEqual(servePdu(meter, Buffer.from([0x06, 0x20, 0x00, 0x00, 0x01])), Buffer.from([0x86, 0x02]));
});
