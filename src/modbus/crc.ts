/**
 * CRC-16/MODBUS (Modbus over serial line V1.02 §2.5.1.2; docs/modbus.md#rs-485-timing): initial value 0xFFFF, reflected polynomial 0xA001.
 * The frame carries it low byte first, so `buf.writeUInt16LE(crc16modbus(body), body.length)`.
 */
const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc16modbus(buf: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of buf) crc = (crc >>> 8) ^ (TABLE[(crc ^ byte) & 0xff] ?? 0);
  return crc;
}

/** Appends the CRC to a frame body (address, function code, data). */
export function withCrc(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(body.length + 2);
  frame.set(body, 0);
  frame.writeUInt16LE(crc16modbus(body), body.length);
  return frame;
}

/** True when the last two bytes are the CRC of the rest. */
export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const body = frame.subarray(0, frame.length - 2);
  const lo = frame[frame.length - 2] ?? 0;
  const hi = frame[frame.length - 1] ?? 0;
  return crc16modbus(body) === (lo | (hi << 8));
}
