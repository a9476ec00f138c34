import { ADDRESS_BYTES } from './address.js';

/**
 * DL/T645-2007 frame (DL/T 645-2007 frame format, checked against icprog/dlt698.45 libDlt645/dlt645.c;
 * docs/modbus.md#dlt-645-2007):
 *   FE FE FE FE | 68 | A0..A5 | 68 | C | L | DATA (each byte +0x33) | CS | 16
 * The checksum is the sum mod 256 of every byte from the first 0x68 to the end of DATA; the FE
 * preamble is not summed, and receivers skip it.
 */
export const PREAMBLE = 0xfe;
export const START = 0x68;
export const END = 0x16;
export const DATA_OFFSET = 0x33;
/** Wake-up bytes we send before a frame. */
export const PREAMBLE_BYTES = 4;
/** DL/T645-2007 caps the data field at 200 bytes for reads (the L byte). */
export const MAX_DATA = 200;
/** 68, six address bytes, 68, C, L: the header before DATA. */
const HEADER = 2 + ADDRESS_BYTES + 2;
/** Header plus CS and 16. */
const OVERHEAD = HEADER + 2;

/** Control codes used here (DL/T 645-2007; docs/modbus.md#dlt-645-2007). */
export const CONTROL = {
  read: 0x11,
  readFollowUp: 0x12,
  readAddress: 0x13,
  write: 0x14,
  readReply: 0x91,
  readReplyMore: 0xb1,
  readError: 0xd1,
  readAddressReply: 0x93,
} as const;

/** C bit 7: the frame comes from the meter; bit 6: abnormal (error) reply; bit 5: follow-up frames. */
export const isReplyControl = (c: number): boolean => (c & 0x80) !== 0;
export const isErrorControl = (c: number): boolean => (c & 0x40) !== 0;
export const hasFollowUp = (c: number): boolean => (c & 0x20) !== 0;
/** The function part of C (bits 0-4): 0x11 for a read and its replies 0x91/0xB1/0xD1. */
export const functionOf = (c: number): number => c & 0x1f;

export interface Dlt645Frame {
  readonly address: Buffer;
  readonly control: number;
  /** The data field with the 0x33 offset already removed. */
  readonly data: Buffer;
}

export type FrameErrorCode = 'bad-start' | 'bad-second-start' | 'bad-length' | 'truncated' | 'checksum' | 'bad-end' | 'not-a-reply';

export interface FrameError {
  readonly code: FrameErrorCode;
  /** Index of the offending byte in the buffer given to the parser. */
  readonly offset: number;
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly frame: Dlt645Frame; readonly length: number } | { readonly ok: false; readonly error: FrameError };

const h2 = (b: number): string => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;

export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Builds a frame; `data` is given plain and sent +0x33. */
export function buildFrame(f: Dlt645Frame, preambleBytes = PREAMBLE_BYTES): Buffer {
  if (f.address.length !== ADDRESS_BYTES) throw new RangeError(`a DL/T645 address is ${ADDRESS_BYTES} bytes, got ${f.address.length}`);
  if (f.data.length > MAX_DATA) throw new RangeError(`DL/T645 data is at most ${MAX_DATA} bytes, got ${f.data.length}`);
  const body = Buffer.alloc(HEADER + f.data.length);
  body[0] = START;
  f.address.copy(body, 1);
  body[1 + ADDRESS_BYTES] = START;
  body[2 + ADDRESS_BYTES] = f.control;
  body[3 + ADDRESS_BYTES] = f.data.length;
  f.data.forEach((b, i) => (body[HEADER + i] = (b + DATA_OFFSET) & 0xff));
  return Buffer.concat([Buffer.alloc(preambleBytes, PREAMBLE), body, Buffer.from([checksum(body), END])]);
}

const fail = (code: FrameErrorCode, offset: number, message: string): ParseResult => ({ ok: false, error: { code, offset, message } });

/**
 * Parses the frame at the head of `buf` (after any FE preamble). `length` counts the bytes consumed,
 * preamble included. 'truncated' means the bytes so far may still become a frame.
 */
export function parseFrame(buf: Uint8Array): ParseResult {
  let s = 0;
  while (s < buf.length && buf[s] === PREAMBLE) s++;
  if (s >= buf.length) return fail('truncated', s, `byte ${s}: frame start 0x68 not received yet (${buf.length} bytes so far)`);
  if (buf[s] !== START) return fail('bad-start', s, `byte ${s}: expected frame start 0x68${s > 0 ? ' after the FE preamble' : ''}, found ${h2(buf[s] ?? 0)}`);
  if (buf.length < s + HEADER)
    return fail('truncated', buf.length, `truncated frame: the header needs ${HEADER} bytes from the 0x68 at byte ${s}, have ${buf.length - s}`);
  const second = s + 1 + ADDRESS_BYTES;
  if (buf[second] !== START)
    return fail('bad-second-start', second, `byte ${second}: expected the second 0x68 after the 6 address bytes, found ${h2(buf[second] ?? 0)}`);
  const lAt = s + HEADER - 1;
  const l = buf[lAt] ?? 0;
  if (l > MAX_DATA) return fail('bad-length', lAt, `byte ${lAt} (L): data length ${l} exceeds the DL/T645 maximum of ${MAX_DATA}`);
  const total = OVERHEAD + l;
  if (buf.length < s + total)
    return fail('truncated', buf.length, `truncated frame: L = ${l} needs ${total} bytes from the 0x68 at byte ${s}, have ${buf.length - s}`);
  const csAt = s + HEADER + l;
  const cs = checksum(buf.subarray(s, csAt));
  if (buf[csAt] !== cs) return fail('checksum', csAt, `byte ${csAt} (CS): checksum mismatch: computed ${h2(cs)}, frame has ${h2(buf[csAt] ?? 0)}`);
  if (buf[csAt + 1] !== END) return fail('bad-end', csAt + 1, `byte ${csAt + 1}: expected end 0x16, found ${h2(buf[csAt + 1] ?? 0)}`);
  const data = Buffer.from(buf.subarray(s + HEADER, csAt)).map((b) => (b - DATA_OFFSET) & 0xff);
  const frame = { address: Buffer.from(buf.subarray(s + 1, second)), control: buf[s + HEADER - 2] ?? 0, data: Buffer.from(data) };
  return { ok: true, frame, length: s + total };
}

/** Like parseFrame, but a request (C bit 7 clear) is an error: what a master expects to receive. */
export function parseReply(buf: Uint8Array): ParseResult {
  const r = parseFrame(buf);
  if (!r.ok || isReplyControl(r.frame.control)) return r;
  let s = 0;
  while (buf[s] === PREAMBLE) s++;
  const at = s + HEADER - 2;
  return fail('not-a-reply', at, `byte ${at} (C): control ${h2(r.frame.control)} is a request (bit 7 clear), not a reply from a meter`);
}
