import type { RegisterType, WordOrder } from './register-types.js';

/**
 * Converts between 16-bit register words and numbers. Word/byte order letters name the bytes of the
 * big-endian value: ABCD is sent as registers [AB, CD].
 */
/** For each byte of the big-endian value, its position on the wire. */
const WIRE_POSITION: Record<WordOrder, readonly number[]> = {
  ABCD: [0, 1, 2, 3],
  CDAB: [2, 3, 0, 1],
  BADC: [1, 0, 3, 2],
  DCBA: [3, 2, 1, 0],
};

function toBigEndianBytes(words: readonly number[], order: WordOrder): Buffer {
  const b = Buffer.alloc(4);
  const [w0 = 0, w1 = 0] = words;
  const wire = [(w0 >> 8) & 0xff, w0 & 0xff, (w1 >> 8) & 0xff, w1 & 0xff];
  WIRE_POSITION[order].forEach((src, i) => b.writeUInt8(wire[src] ?? 0, i));
  return b;
}

function fromBigEndianBytes(b: Buffer, order: WordOrder): [number, number] {
  const wire = [0, 0, 0, 0];
  WIRE_POSITION[order].forEach((src, i) => {
    wire[src] = b.readUInt8(i);
  });
  return [((wire[0] ?? 0) << 8) | (wire[1] ?? 0), ((wire[2] ?? 0) << 8) | (wire[3] ?? 0)];
}

export function decodeRegisters(words: readonly number[], type: RegisterType, order: WordOrder): number {
  const w0 = words[0] ?? 0;
  switch (type) {
    case 'uint16':
      return w0 & 0xffff;
    case 'int16':
      return (w0 << 16) >> 16;
    case 'uint32':
      return toBigEndianBytes(words, order).readUInt32BE(0);
    case 'int32':
      return toBigEndianBytes(words, order).readInt32BE(0);
    case 'float32':
      return toBigEndianBytes(words, order).readFloatBE(0);
  }
}

export function encodeRegisters(value: number, type: RegisterType, order: WordOrder): number[] {
  const b = Buffer.alloc(4);
  switch (type) {
    case 'uint16':
      return [Math.round(value) & 0xffff];
    case 'int16':
      return [Math.round(value) & 0xffff];
    case 'uint32':
      b.writeUInt32BE(Math.round(value) >>> 0, 0);
      return fromBigEndianBytes(b, order);
    case 'int32':
      b.writeInt32BE(Math.round(value) | 0, 0);
      return fromBigEndianBytes(b, order);
    case 'float32':
      b.writeFloatBE(value, 0);
      return fromBigEndianBytes(b, order);
  }
}
