import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles } from '../src/drivers/profiles.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { decodeBlock, DEFAULT_SCALING, encodePoint } from '../src/drivers/point-codec.js';
import { decodeRegisters, encodeRegisters } from '../src/drivers/registers.js';
import type { DeviceProfile } from '../src/drivers/profile-schema.js';

const profiles = loadProfiles();
const ddsu = profiles.get('DDSU666') as DeviceProfile;
const dtsu = profiles.get('DTSU666') as DeviceProfile;

/** Builds a block's words from { register: [hi word, lo word] } worked out by hand from IEEE-754. */
function image(start: number, count: number, regs: Record<number, [number, number]>): number[] {
  const words = new Array<number>(count).fill(0);
  for (const [reg, [hi, lo]] of Object.entries(regs)) {
    words[Number(reg) - start] = hi;
    words[Number(reg) - start + 1] = lo;
  }
  return words;
}

const close = (actual: number | undefined, expected: number, tol = 1e-3): void => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
};

test('float32 ABCD: 0x450FE000 is 2302.0 (a DTSU666 voltage frame captured from mbpoll against pymodbus)', () => {
  assert.equal(decodeRegisters([0x450f, 0xe000], 'float32', 'ABCD'), 2302);
  assert.equal(decodeRegisters([0xe000, 0x450f], 'float32', 'CDAB'), 2302);
  assert.deepEqual(encodeRegisters(2302, 'float32', 'ABCD'), [0x450f, 0xe000]);
  assert.equal(decodeRegisters([0xfffe], 'int16', 'ABCD'), -2);
  assert.equal(decodeRegisters([0x0001, 0x0000], 'uint32', 'ABCD'), 65536);
});

test('DDSU666 reads in two requests: 0x2000 x16 every cycle, 0x4000 x12 for energy', () => {
  const blocks = planBlocks(ddsu);
  assert.deepEqual(
    blocks.map((b) => [b.group, b.start, b.count, b.every]),
    [
      ['instant', 0x2000, 16, 1],
      ['energy', 0x4000, 12, 6],
    ],
  );
});

test('DDSU666 instantaneous block: V, A, kW -> W, kvar -> var, PF, Hz', () => {
  const [instant] = planBlocks(ddsu);
  assert.ok(instant);
  // 230.2 = 0x43663333, 2.5 = 0x40200000, 0.49 kW = 0x3EFAE148, 0.1 kvar = 0x3DCCCCCD, 0.98 = 0x3F7AE148, 50.0 = 0x42480000
  const words = image(0x2000, 16, {
    0x2000: [0x4366, 0x3333],
    0x2002: [0x4020, 0x0000],
    0x2004: [0x3efa, 0xe148],
    0x2006: [0x3dcc, 0xcccd],
    0x200a: [0x3f7a, 0xe148],
    0x200e: [0x4248, 0x0000],
  });
  const v = decodeBlock(instant, words, DEFAULT_SCALING);
  close(v.Voltage_L1, 230.2);
  close(v.Current_L1, 2.5);
  close(v.ActivePower, 490, 1e-2);
  close(v.ReactivePower, 100, 1e-2);
  close(v.PowerFactor, 0.98);
  close(v.Frequency, 50);
});

test('DDSU666 energy block and the invert option (meter wired backwards)', () => {
  const energy = planBlocks(ddsu)[1];
  assert.ok(energy);
  // 12345.6 kWh = 0x4640E666, 7.5 kWh = 0x40F00000
  const words = image(0x4000, 12, { 0x4000: [0x4640, 0xe666], 0x400a: [0x40f0, 0x0000] });
  const v = decodeBlock(energy, words, DEFAULT_SCALING);
  close(v.EnergyImport, 12345.6, 1e-2);
  close(v.EnergyExport, 7.5);
  const inv = decodeBlock(energy, words, { ...DEFAULT_SCALING, invert: true });
  close(inv.EnergyImport, 7.5);
  close(inv.EnergyExport, 12345.6, 1e-2);
});

test('DTSU666 instantaneous block is one 70-register read; raw values scaled x0.1 V, x0.001 A, x0.1 W, x0.01 Hz', () => {
  const blocks = planBlocks(dtsu);
  assert.deepEqual(
    blocks.map((b) => [b.group, b.start, b.count]),
    [
      ['instant', 0x2000, 0x46],
      ['energy', 0x401e, 12],
    ],
  );
  const instant = blocks[0];
  assert.ok(instant);
  // Ua 2302.0 = 0x450FE000; Ia 5000.0 = 0x459C4000; Pt -1963.0 = 0xC4F56000; Pa 1000.0 = 0x447A0000;
  // PFt 980.0 = 0x44750000; Freq 5001.0 = 0x459C4800
  const words = image(0x2000, 0x46, {
    0x2006: [0x450f, 0xe000],
    0x200c: [0x459c, 0x4000],
    0x2012: [0xc4f5, 0x6000],
    0x2014: [0x447a, 0x0000],
    0x202a: [0x4475, 0x0000],
    0x2044: [0x459c, 0x4800],
  });
  const v = decodeBlock(instant, words, DEFAULT_SCALING);
  close(v.Voltage_L1, 230.2);
  close(v.Current_L1, 5);
  close(v.ActivePower, -196.3);
  close(v.ActivePower_L1, 100);
  close(v.PowerFactor, 0.98);
  close(v.Frequency, 50.01);
  // CT 40:1 and PT 1: currents and powers multiply by 40, voltages do not.
  const ct = decodeBlock(instant, words, { ...DEFAULT_SCALING, ctRatio: 40 });
  close(ct.Current_L1, 200);
  close(ct.ActivePower, -7852);
  close(ct.Voltage_L1, 230.2);
  const inverted = decodeBlock(instant, words, { ...DEFAULT_SCALING, invert: true });
  close(inverted.ActivePower, 196.3);
});

test('DTSU666 energy at 0x401E/0x4028 in kWh times CT x PT', () => {
  const energy = planBlocks(dtsu)[1];
  assert.ok(energy);
  // 478.49 = 0x43EF3EB8 (as in the pymodbus DTSU666 image we checked mbpoll against)
  const words = image(0x401e, 12, { 0x401e: [0x43ef, 0x3eb8], 0x4028: [0x4120, 0x0000] });
  const v = decodeBlock(energy, words, { ...DEFAULT_SCALING, ctRatio: 20, ptRatio: 1 });
  close(v.EnergyImport, 478.49 * 20, 1e-2);
  close(v.EnergyExport, 200);
});

test('encodePoint is the exact inverse of decoding for every shipped point', () => {
  for (const profile of [ddsu, dtsu]) {
    for (const block of planBlocks(profile)) {
      const words = new Array<number>(block.count).fill(0);
      block.points.forEach((p, i) => {
        const w = encodePoint(p, 100 + i, { ...DEFAULT_SCALING, ctRatio: 5 });
        words.splice(p.register - block.start, w.length, ...w);
      });
      const decoded = decodeBlock(block, words, { ...DEFAULT_SCALING, ctRatio: 5 });
      block.points.forEach((p, i) => close(decoded[p.channel], 100 + i, 1e-2));
    }
  }
});
