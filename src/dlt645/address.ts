import { fromBcdByte, toBcdByte } from './bcd.js';

/**
 * A DL/T645 meter address is its 12-digit serial number (the "station address" on the label) as
 * 6 BCD bytes, least significant byte first (DL/T 645-2007 frame format; docs/modbus.md#dlt-645-2007).
 * So 200322016690 is sent as 90 66 01 22 03 20.
 */
export const ADDRESS_BYTES = 6;

/** AA..AA: "whoever is on the line" (used by read-address, 0x13; only safe with one meter attached). */
export const WILDCARD_ADDRESS: Buffer = Buffer.alloc(ADDRESS_BYTES, 0xaa);

export const isSerial = (s: string): boolean => /^\d{12}$/.test(s);

export function serialToAddress(serial: string): Buffer {
  if (!isSerial(serial)) throw new RangeError(`a DL/T645 station address is exactly 12 digits; got "${serial}"`);
  const out = Buffer.alloc(ADDRESS_BYTES);
  for (let i = 0; i < ADDRESS_BYTES; i++) {
    const from = 12 - 2 * (i + 1);
    out[i] = toBcdByte(Number(serial.slice(from, from + 2)));
  }
  return out;
}

/** 6 address bytes -> the 12-digit serial, or undefined if they are not BCD (e.g. the AA wildcard). */
export function addressToSerial(address: Uint8Array): string | undefined {
  if (address.length !== ADDRESS_BYTES) return undefined;
  let serial = '';
  for (let i = ADDRESS_BYTES - 1; i >= 0; i--) {
    const d = fromBcdByte(address[i] ?? 0xff);
    if (d === undefined) return undefined;
    serial += String(d).padStart(2, '0');
  }
  return serial;
}

export const isWildcard = (address: Uint8Array): boolean => Buffer.from(address).equals(WILDCARD_ADDRESS);

export const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1 ');
