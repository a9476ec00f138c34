import { EXCEPTION, isRefusal, type ExceptionCode, type RegisterDevice } from './device.js';

/**
 * One Modbus request PDU (function code + data) against one device -> the response PDU. Meters
 * support FC03, FC04, FC06 and FC16; relay modules add FC01, FC05 and FC15; anything else is exception 01. Limits from Modbus application
 * protocol V1.1b: read 1-125 registers, write 1-123.
 */
export const MAX_READ = 125;
export const MAX_WRITE = 123;

export function exceptionPdu(functionCode: number, code: ExceptionCode): Buffer {
  return Buffer.from([(functionCode | 0x80) & 0xff, code]);
}

export function servePdu(device: RegisterDevice, pdu: Buffer): Buffer {
  const fc = pdu.readUInt8(0);
  switch (fc) {
    case 3:
    case 4:
      return read(device, fc, pdu);
    case 6:
      return writeSingle(device, pdu);
    case 16:
      return writeMultiple(device, pdu);
    case 1:
      return readCoils(device, pdu);
    case 5:
      return writeSingleCoil(device, pdu);
    case 15:
      return writeMultipleCoils(device, pdu);
    default:
      return exceptionPdu(fc, EXCEPTION.illegalFunction);
  }
}

/** A broadcast (unit 0) write is executed by every device and answered by none. */
export function serveBroadcast(devices: readonly RegisterDevice[], pdu: Buffer): void {
  const fc = pdu.readUInt8(0);
  if (fc === 6 || fc === 16 || fc === 5 || fc === 15) for (const d of devices) servePdu(d, pdu);
}

function read(device: RegisterDevice, fc: 3 | 4, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
  const start = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > MAX_READ) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
  if (start + count > 0x10000) return exceptionPdu(fc, EXCEPTION.illegalDataAddress);
  const words = device.readRegisters(fc, start, count);
  if (isRefusal(words)) return exceptionPdu(fc, words.exception);
  const out = Buffer.alloc(2 + 2 * count);
  out.writeUInt8(fc, 0);
  out.writeUInt8(2 * count, 1);
  words.forEach((w, i) => out.writeUInt16BE(w & 0xffff, 2 + 2 * i));
  return out;
}

function writeSingle(device: RegisterDevice, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(6, EXCEPTION.illegalDataValue);
  const refused = device.writeRegisters(pdu.readUInt16BE(1), [pdu.readUInt16BE(3)]);
  return refused ? exceptionPdu(6, refused.exception) : Buffer.from(pdu); // the reply echoes the request
}

function writeMultiple(device: RegisterDevice, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exceptionPdu(16, EXCEPTION.illegalDataValue);
  const start = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  const bytes = pdu.readUInt8(5);
  if (count < 1 || count > MAX_WRITE || bytes !== 2 * count || pdu.length !== 6 + bytes) {
    return exceptionPdu(16, EXCEPTION.illegalDataValue);
  }
  if (start + count > 0x10000) return exceptionPdu(16, EXCEPTION.illegalDataAddress);
  const words = Array.from({ length: count }, (_, i) => pdu.readUInt16BE(6 + 2 * i));
  const refused = device.writeRegisters(start, words);
  return refused ? exceptionPdu(16, refused.exception) : pdu.subarray(0, 5);
}

/** Coil limits from Modbus application protocol V1.1b: read 1-2000, write 1-1968. */
export const MAX_READ_COILS = 2000;
export const MAX_WRITE_COILS = 1968;

function readCoils(device: RegisterDevice, pdu: Buffer): Buffer {
  if (!device.readCoils) return exceptionPdu(1, EXCEPTION.illegalFunction);
  if (pdu.length !== 5) return exceptionPdu(1, EXCEPTION.illegalDataValue);
  const start = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > MAX_READ_COILS) return exceptionPdu(1, EXCEPTION.illegalDataValue);
  if (start + count > 0x10000) return exceptionPdu(1, EXCEPTION.illegalDataAddress);
  const bits = device.readCoils(start, count);
  if (isRefusal(bits)) return exceptionPdu(1, bits.exception);
  const bytes = Math.ceil(count / 8);
  const out = Buffer.alloc(2 + bytes);
  out.writeUInt8(1, 0);
  out.writeUInt8(bytes, 1);
  bits.forEach((on, i) => {
    const at = 2 + (i >> 3);
    if (on) out.writeUInt8(out.readUInt8(at) | (1 << (i & 7)), at); // bit 0 of the first byte is the first coil
  });
  return out;
}

function writeSingleCoil(device: RegisterDevice, pdu: Buffer): Buffer {
  if (!device.writeSingleCoil) return exceptionPdu(5, EXCEPTION.illegalFunction);
  if (pdu.length !== 5) return exceptionPdu(5, EXCEPTION.illegalDataValue);
  const refused = device.writeSingleCoil(pdu.readUInt16BE(1), pdu.readUInt16BE(3));
  return refused ? exceptionPdu(5, refused.exception) : Buffer.from(pdu); // the reply echoes the request
}

function writeMultipleCoils(device: RegisterDevice, pdu: Buffer): Buffer {
  if (!device.writeCoils) return exceptionPdu(15, EXCEPTION.illegalFunction);
  if (pdu.length < 7) return exceptionPdu(15, EXCEPTION.illegalDataValue);
  const start = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  const bytes = pdu.readUInt8(5);
  if (count < 1 || count > MAX_WRITE_COILS || bytes !== Math.ceil(count / 8) || pdu.length !== 6 + bytes) {
    return exceptionPdu(15, EXCEPTION.illegalDataValue);
  }
  if (start + count > 0x10000) return exceptionPdu(15, EXCEPTION.illegalDataAddress);
  const states = Array.from({ length: count }, (_, i) => ((pdu.readUInt8(6 + (i >> 3)) >> (i & 7)) & 1) === 1);
  const refused = device.writeCoils(start, states);
  return refused ? exceptionPdu(15, refused.exception) : pdu.subarray(0, 5);
}
