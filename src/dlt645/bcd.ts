/**
 * BCD as DL/T645-2007 uses it: two decimal digits per byte, multi-byte values least significant
 * byte first; energy is XXXXXX.XX kWh (DL/T 645-2007; docs/modbus.md#dlt-645-2007).
 */

/** 0..99 -> one BCD byte. */
export function toBcdByte(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 99) throw new RangeError(`BCD byte: ${n} is not 0-99`);
  return ((Math.floor(n / 10) << 4) | (n % 10)) & 0xff;
}

/** One BCD byte -> 0..99, or undefined when a nibble is not a decimal digit. */
export function fromBcdByte(b: number): number | undefined {
  const hi = b >> 4;
  const lo = b & 0x0f;
  return hi > 9 || lo > 9 ? undefined : hi * 10 + lo;
}

/** A whole number -> `bytes` BCD bytes, least significant first. */
export function encodeBcdLE(value: number, bytes: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 100 ** bytes) {
    throw new RangeError(`BCD: ${value} does not fit ${bytes} bytes (${2 * bytes} digits)`);
  }
  const out = Buffer.alloc(bytes);
  let rest = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = toBcdByte(rest % 100);
    rest = Math.floor(rest / 100);
  }
  return out;
}

/** BCD bytes, least significant first -> the number, or undefined if any byte is not BCD. */
export function decodeBcdLE(buf: Uint8Array): number | undefined {
  let value = 0;
  for (let i = buf.length - 1; i >= 0; i--) {
    const d = fromBcdByte(buf[i] ?? 0xff);
    if (d === undefined) return undefined;
    value = value * 100 + d;
  }
  return value;
}

/** Energy format XXXXXX.XX kWh: 4 BCD bytes holding hundredths of a kWh. */
export const ENERGY_BYTES = 4;

export function encodeEnergy(kWh: number): Buffer {
  const hundredths = Math.round(kWh * 100);
  if (hundredths < 0 || hundredths > 99_999_999) throw new RangeError(`energy ${kWh} kWh is outside 0-999999.99 (XXXXXX.XX)`);
  return encodeBcdLE(hundredths, ENERGY_BYTES);
}

export function decodeEnergy(buf: Uint8Array): number | undefined {
  if (buf.length !== ENERGY_BYTES) return undefined;
  const hundredths = decodeBcdLE(buf);
  return hundredths === undefined ? undefined : hundredths / 100;
}
