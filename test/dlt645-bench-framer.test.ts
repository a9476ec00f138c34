import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROL } from '../src/dlt645/frame.js';
import { readAddressRequest } from '../src/dlt645/messages.js';
import type { Dlt645Frame } from '../src/dlt645/frame.js';
import { withCrc } from '../src/modbus/crc.js';
import { BenchFramer } from '../src/sim/bench-framer.js';

function collect(): { framer: BenchFramer; dlt: Dlt645Frame[]; rtu: Buffer[]; dropped: () => number } {
  const dlt: Dlt645Frame[] = [];
  const rtu: Buffer[] = [];
  let dropped = 0;
  const framer = new BenchFramer({ dlt645: (f) => dlt.push(f), rtu: (f) => rtu.push(f), dropped: (n) => (dropped += n) }, 20);
  return { framer, dlt, rtu, dropped: () => dropped };
}

test('one bench line carries DL/T645 frames and RTU requests, including RTU to unit 0x68', async () => {
  const { framer, dlt, rtu, dropped } = collect();
  const toUnit104 = withCrc(Buffer.from([0x68, 0x03, 0x00, 0x2e, 0x00, 0x01]));
  const toUnit1 = withCrc(Buffer.from([0x01, 0x10, 0x00, 0x2e, 0x00, 0x01, 0x02, 0x00, 0x0c]));
  const stream = Buffer.concat([readAddressRequest(), toUnit104, Buffer.from([0x00, 0x42]), toUnit1, readAddressRequest()]);
  for (let i = 0; i < stream.length; i += 2) framer.push(stream.subarray(i, i + 2));
  await new Promise((r) => setTimeout(r, 40)); // any stale tail is dropped after the silence
  assert.deepEqual(
    dlt.map((f) => f.control),
    [CONTROL.readAddress, CONTROL.readAddress],
  );
  assert.deepEqual(rtu, [toUnit104, toUnit1]);
  assert.equal(dropped(), 2, 'the two garbage bytes');
  framer.close();
});

test('an incomplete head is dropped after a silence, then the line resynchronises', async () => {
  const { framer, rtu, dropped } = collect();
  framer.push(Buffer.from([0x68, 0x03, 0x00]));
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(dropped(), 3);
  const req = withCrc(Buffer.from([0x02, 0x03, 0x00, 0x06, 0x00, 0x01]));
  framer.push(req);
  assert.deepEqual(rtu, [req]);
  framer.close();
});
