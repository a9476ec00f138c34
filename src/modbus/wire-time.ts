/**
 * RS-485 wire time (Modbus over serial line V1.02 §2.5.1, §2.5.1.1): one character = start + 8 data + parity + stop
 * bits; frames are separated by t3.5 = 3.5 characters, fixed at 1.75 ms above 19200 baud.
 */
export interface LineSettings {
  readonly baudRate: number;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 2;
}

export const bitsPerChar = (l: LineSettings): number => 1 + 8 + (l.parity === 'none' ? 0 : 1) + l.stopBits;

export const charMs = (l: LineSettings): number => (bitsPerChar(l) * 1000) / l.baudRate;

export const t35Ms = (l: LineSettings): number => (l.baudRate > 19200 ? 1.75 : 3.5 * charMs(l));

/** Bytes of an RTU read request (addr, FC, start, count, CRC) and its normal response. */
export const READ_REQUEST_BYTES = 8;
export const readResponseBytes = (registers: number): number => 5 + 2 * registers;

/** The physical minimum for one read transaction: both frames on the wire plus two t3.5 silences. */
export function readTransactionMs(l: LineSettings, registers: number, turnaroundMs = 0): number {
  return (READ_REQUEST_BYTES + readResponseBytes(registers)) * charMs(l) + 2 * t35Ms(l) + turnaroundMs;
}
