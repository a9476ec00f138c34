import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16modbus, hasValidCrc, withCrc } from '../src/modbus/crc.js';
import { RtuFramer } from '../src/sim/rtu-framer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('CRC-16/MODBUS matches frames captured on the wire (docs/modbus.md#rs-485-timing)', () => {
  for (const frame of [
    '01 04 20 06 00 02 9A 0A',
    '01 04 04 45 0F E0 00 97 4B',
    '01 06 00 2E 00 01 28 03',
    '01 04 04 43 66 33 34 1B 38',
    '01 04 20 00 00 7D 3B EB',
  ]) {
    assert.ok(hasValidCrc(hex(frame)), frame);
  }
  assert.equal(crc16modbus(hex('01 04 20 06 00 02')), 0x0a9a);
  assert.deepEqual(withCrc(hex('01 06 00 2E 00 01')), hex('01 06 00 2E 00 01 28 03'));
});

function collect(staleMs = 20): { framer: RtuFramer; frames: Buffer[]; stats: { crc: number; dropped: number } } {
  const frames: Buffer[] = [];
  const stats = { crc: 0, dropped: 0 };
  const framer = new RtuFramer({ frame: (f) => frames.push(f), crcError: () => stats.crc++, dropped: (n) => (stats.dropped += n) }, staleMs);
  return { framer, frames, stats };
}

const read = withCrc(hex('05 03 20 00 00 0A'));
const write16 = withCrc(hex('05 10 00 2E 00 02 04 00 07 00 08'));

test('frames by length: byte by byte, back to back, and FC16 by its byte count', () => {
  const { framer, frames } = collect();
  for (const byte of read) framer.push(Buffer.from([byte]));
  framer.push(Buffer.concat([write16, read]));
  framer.close();
  assert.deepEqual(frames, [read, write16, read]);
});

test('a frame with a bad CRC is counted once and the next good frame is still found', () => {
  const { framer, frames, stats } = collect();
  const bad = Buffer.from(read);
  bad.writeUInt8(bad.readUInt8(7) ^ 0x55, 7);
  framer.push(Buffer.concat([bad, read]));
  framer.close();
  assert.deepEqual(frames, [read]);
  assert.equal(stats.crc, 1);
  assert.equal(stats.dropped, 8);
});

test('garbage before a frame is dropped; a lone fragment is dropped after the silence', async () => {
  const { framer, frames, stats } = collect(10);
  framer.push(Buffer.concat([hex('ff 00 13'), read]));
  assert.deepEqual(frames, [read]);
  assert.equal(stats.dropped, 3);
  framer.push(hex('05 03 20'));
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(stats.dropped, 6);
  framer.push(read);
  assert.deepEqual(frames, [read, read]);
  framer.close();
});

test('a function code of unknown length is framed by its CRC (so the slave can answer exception 01)', () => {
  const { framer, frames } = collect();
  const mei = withCrc(hex('05 2B 0E 01 00'));
  framer.push(mei);
  framer.close();
  assert.deepEqual(frames, [mei]);
});
