import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressToSerial, serialToAddress, WILDCARD_ADDRESS } from '../src/dlt645/address.js';
import { decodeEnergy, encodeEnergy } from '../src/dlt645/bcd.js';
import { buildFrame, checksum, CONTROL, parseFrame, parseReply, type Dlt645Frame, type FrameError } from '../src/dlt645/frame.js';
import { Dlt645Framer } from '../src/dlt645/framer.js';
import {
  DI,
  energyFromPayload,
  errorReply,
  interpretReply,
  readAddressReply,
  readAddressRequest,
  readDataReply,
  readDataRequest,
} from '../src/dlt645/messages.js';

const bytes = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// The worked examples of docs/modbus.md#dlt-645-2007.
const READ_ADDRESS = bytes('FE FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16');
const READ_ENERGY_1 = bytes('FE FE FE FE 68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16');
const REPLY_12345_67 = bytes('68 01 00 00 00 00 00 68 91 08 33 33 34 33 9A 78 56 34 D3 16');

function parsed(buf: Buffer): Dlt645Frame {
  const r = parseFrame(buf);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.frame;
}

function failure(buf: Buffer, parse = parseFrame): FrameError {
  const r = parse(buf);
  assert.ok(!r.ok, 'expected a parse error');
  return r.error;
}

test('builds the reference worked examples byte for byte', () => {
  assert.deepEqual(readAddressRequest(), READ_ADDRESS);
  assert.deepEqual(readDataRequest(serialToAddress('000000000001'), DI.activeImportTotal), READ_ENERGY_1);
  assert.deepEqual(readDataReply(serialToAddress('000000000001'), DI.activeImportTotal, encodeEnergy(12345.67), false).subarray(4), REPLY_12345_67);
});

test('parses the worked examples: address, control, data with the 0x33 offset removed', () => {
  const req = parsed(READ_ADDRESS);
  assert.deepEqual(req.address, WILDCARD_ADDRESS);
  assert.equal(req.control, CONTROL.readAddress);
  assert.equal(req.data.length, 0);
  const read = parsed(READ_ENERGY_1);
  assert.equal(addressToSerial(read.address), '000000000001');
  assert.deepEqual(read.data, bytes('00 00 01 00'), 'DI 00 01 00 00 sent DI0 first, each byte -0x33');
  const reply = parsed(REPLY_12345_67);
  assert.equal(reply.control, 0x91);
  assert.deepEqual(reply.data, bytes('00 00 01 00 67 45 23 01'));
  const r = interpretReply(reply, CONTROL.read);
  assert.ok(typeof r === 'object' && r.kind === 'data');
  assert.equal(r.di, DI.activeImportTotal);
  assert.equal(energyFromPayload(r.payload), 12345.67);
});

test('checksum is the byte sum from the first 0x68 through DATA, preamble excluded', () => {
  assert.equal(checksum(READ_ADDRESS.subarray(4, 14)), 0xdf);
  assert.equal(checksum(REPLY_12345_67.subarray(0, 18)), 0xd3);
});

test('BCD energy XXXXXX.XX little-endian; serial <-> address least significant byte first', () => {
  assert.deepEqual(encodeEnergy(12345.67), bytes('67 45 23 01'));
  assert.equal(decodeEnergy(bytes('67 45 23 01')), 12345.67);
  assert.equal(decodeEnergy(bytes('6A 45 23 01')), undefined, 'A is not a decimal digit');
  assert.throws(() => encodeEnergy(1_000_000), /outside 0-999999.99/);
  assert.deepEqual(serialToAddress('200322016690'), bytes('90 66 01 22 03 20'));
  assert.equal(addressToSerial(bytes('90 66 01 22 03 20')), '200322016690');
  assert.equal(addressToSerial(WILDCARD_ADDRESS), undefined);
  assert.throws(() => serialToAddress('20032201669'), /exactly 12 digits/);
});

test('read-address reply and error reply', () => {
  const addr = serialToAddress('200322016690');
  const a = parsed(readAddressReply(addr));
  assert.equal(a.control, 0x93);
  assert.deepEqual(interpretReply(a, CONTROL.readAddress), { kind: 'address', serial: '200322016690' });
  const e = parsed(errorReply(addr, CONTROL.read, 0x02));
  assert.equal(e.control, 0xd1);
  assert.deepEqual(interpretReply(e, CONTROL.read), { kind: 'error', errorByte: 0x02, reason: 'no such data item' });
  const mismatch = interpretReply(a, CONTROL.read);
  assert.ok(typeof mismatch === 'string');
  assert.match(mismatch, /does not answer request 0x11/);
});

test('errors name the byte and what was expected', () => {
  const badCs = Buffer.from(REPLY_12345_67);
  badCs[18] = 0xd4;
  const cs = failure(badCs);
  assert.equal(cs.code, 'checksum');
  assert.equal(cs.offset, 18);
  assert.equal(cs.message, 'byte 18 (CS): checksum mismatch: computed 0xD3, frame has 0xD4');

  const noEnd = Buffer.from(REPLY_12345_67);
  noEnd[19] = 0x00;
  assert.equal(failure(noEnd).message, 'byte 19: expected end 0x16, found 0x00');

  const badStart = bytes('FE FE 12 01 00 00 00 00 00 68 91 00 00 16');
  assert.equal(failure(badStart).message, 'byte 2: expected frame start 0x68 after the FE preamble, found 0x12');

  const second = Buffer.from(REPLY_12345_67);
  second[7] = 0x69;
  assert.equal(failure(second).code, 'bad-second-start');
  assert.match(failure(second).message, /^byte 7: expected the second 0x68/);

  const long = Buffer.from(REPLY_12345_67);
  long[9] = 0xff;
  assert.equal(failure(long).message, 'byte 9 (L): data length 255 exceeds the DL/T645 maximum of 200');

  const cut = failure(REPLY_12345_67.subarray(0, 15));
  assert.equal(cut.code, 'truncated');
  assert.equal(cut.message, 'truncated frame: L = 8 needs 20 bytes from the 0x68 at byte 0, have 15');
  assert.equal(failure(REPLY_12345_67.subarray(0, 5)).code, 'truncated');

  const notReply = failure(READ_ENERGY_1, parseReply);
  assert.equal(notReply.code, 'not-a-reply');
  assert.equal(notReply.offset, 12);
  assert.match(notReply.message, /control 0x11 is a request/);
  assert.ok(parseReply(REPLY_12345_67).ok);
});

test('the +0x33 offset applies to every data byte and wraps at 256', () => {
  const frame = buildFrame({ address: serialToAddress('000000000001'), control: 0x91, data: bytes('00 CD FF') }, 0);
  assert.deepEqual(frame.subarray(10, 13), bytes('33 00 32'));
  assert.deepEqual(parsed(frame).data, bytes('00 CD FF'));
});

test('the stream framer skips FE preamble and garbage, resynchronises after a broken frame, and joins chunks', () => {
  const frames: Dlt645Frame[] = [];
  const errors: FrameError[] = [];
  let dropped = 0;
  const framer = new Dlt645Framer({ frame: (f) => frames.push(f), error: (e) => errors.push(e), dropped: (n) => (dropped += n) });
  const broken = Buffer.from(REPLY_12345_67);
  broken[18] = 0x00;
  const stream = Buffer.concat([bytes('00 11 22'), broken, bytes('FE FE FE FE'), REPLY_12345_67, READ_ADDRESS]);
  for (let i = 0; i < stream.length; i += 3) framer.push(stream.subarray(i, i + 3));
  assert.equal(frames.length, 2);
  assert.equal(frames[0]?.control, 0x91);
  assert.equal(frames[1]?.control, 0x13);
  assert.equal(errors[0]?.code, 'checksum');
  assert.ok(dropped >= 3, 'the garbage before the first frame is counted');
  assert.equal(framer.pending, 0);
});

test('the framer waits for a truncated frame, but skips a lone 0x68 when a whole frame follows', () => {
  const frames: Dlt645Frame[] = [];
  const framer = new Dlt645Framer({ frame: (f) => frames.push(f) });
  framer.push(REPLY_12345_67.subarray(0, 12));
  assert.equal(frames.length, 0);
  framer.push(REPLY_12345_67.subarray(12));
  assert.equal(frames.length, 1);
  framer.push(Buffer.concat([bytes('68 01 02'), READ_ADDRESS]));
  assert.equal(frames.length, 2);
  assert.equal(frames[1]?.control, 0x13);
});
