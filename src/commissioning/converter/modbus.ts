import type { DeviceProfile } from '../../drivers/profile-schema.js';
import { decodePoint, DEFAULT_SCALING } from '../../drivers/point-codec.js';
import { registerWidth } from '../../drivers/profile-schema.js';
import type { ModbusBus } from '../../modbus/bus.js';
import { ModbusError } from '../../modbus/modbus-error.js';
import { addressRegisterOf, assertSafeWrite, ConverterRefusal } from './plan.js';
import {
  baudOfCode,
  codeOfBaud,
  DDSU666_ADDRESS,
  DTSU666,
  PROTOCOL_CODES,
  protocolOfCode,
  type MeterModel,
  type ProtocolName,
} from '../../dlt645/converter-registers.js';

/**
 * Converter operations over Modbus on a bench (or any) line: identify the model, read and change
 * the address, read and set a DTSU666's protocol (0x002C) and baud (0x002D). FC03 reads and FC16
 * writes ("read = 03H, write = 10H", CHINT DTSU666 quick operation manual and user manual ZTY0.464.1448).
 */
export interface ModbusMeterInfo {
  readonly model: MeterModel;
  readonly address: number;
  /** DTSU666 only. */
  readonly protocol?: ProtocolName;
  readonly baudRate?: number;
}

const isException = (e: unknown): boolean => e instanceof ModbusError && e.kind === 'exception';

/**
 * A DTSU666 holds its own address in 0x002E next to Protocol (0x002C) and bAud (0x002D); a DDSU666
 * holds it in 0x0006. Test the DTSU666 signature first: on a DTSU666, 0x0006 is the CT ratio and
 * is often 1, so "0x0006 == 1" alone would mistake one for a DDSU666.
 */
export async function identifyModel(bus: ModbusBus, unit: number): Promise<ModbusMeterInfo> {
  let words: number[] | undefined;
  try {
    words = await bus.readRegisters(unit, 3, DTSU666.protocol, 3);
  } catch (e) {
    if (!isException(e)) throw e;
  }
  const [p = -1, b = -1, a = -1] = words ?? [];
  const protocol = protocolOfCode(p);
  const baudRate = baudOfCode(b);
  if (a === unit && protocol && baudRate) return { model: 'DTSU666', address: unit, protocol, baudRate };
  let ddsu: number | undefined;
  try {
    [ddsu] = await bus.readRegisters(unit, 3, DDSU666_ADDRESS, 1);
  } catch (e) {
    if (!isException(e)) throw e;
  }
  if (ddsu === unit) return { model: 'DDSU666', address: unit };
  const seen = [words ? `0x002C-0x002E = ${words.join(', ')}` : '0x002C-0x002E refused', ddsu === undefined ? '0x0006 refused' : `0x0006 = ${ddsu}`].join('; ');
  throw new Error(`something answers at Modbus address ${unit} but is neither a DTSU666 (0x002E = ${unit}) nor a DDSU666 (0x0006 = ${unit}): ${seen}`);
}

/** Identifies the meter at `unit` and refuses if it is not the model the caller expects. */
export async function requireModel(bus: ModbusBus, unit: number, expected: MeterModel): Promise<ModbusMeterInfo> {
  const info = await identifyModel(bus, unit);
  if (info.model !== expected) {
    const danger = expected === 'DDSU666' ? ' Writing the DDSU666 address register 0x0006 on it would change its CT ratio.' : '';
    throw new ConverterRefusal(`expected a ${expected} but the meter at address ${unit} is a ${info.model}; nothing was written.${danger}`);
  }
  return info;
}

/** Every configuration write goes through here, so the 0x0006-on-DTSU666 guard cannot be bypassed. */
async function writeConfig(bus: ModbusBus, unit: number, model: MeterModel, register: number, value: number): Promise<void> {
  assertSafeWrite(model, register);
  await bus.writeRegisters(unit, register, [value]);
}

export async function readAddressRegister(bus: ModbusBus, unit: number, model: MeterModel, profiles: ReadonlyMap<string, DeviceProfile>): Promise<number> {
  const [value] = await bus.readRegisters(unit, 3, addressRegisterOf(model, profiles), 1);
  return value ?? NaN;
}

/**
 * Writes `to` into the address register of the meter at `from`. The meter moves as it takes the
 * write; if its reply is lost that way, the write is not called failed: verify at `to` instead.
 */
export async function writeAddress(
  bus: ModbusBus,
  model: MeterModel,
  from: number,
  to: number,
  profiles: ReadonlyMap<string, DeviceProfile>,
): Promise<'acknowledged' | 'no-reply'> {
  const register = addressRegisterOf(model, profiles);
  try {
    await writeConfig(bus, from, model, register, to);
    return 'acknowledged';
  } catch (e) {
    if (e instanceof ModbusError && e.kind === 'timeout') return 'no-reply';
    throw e;
  }
}

/** One channel of the profile (e.g. Voltage_L1) in engineering units, CT/PT 1:1 as on a bench. */
export async function readChannel(bus: ModbusBus, unit: number, profile: DeviceProfile, channel: string): Promise<number> {
  const point = profile.groups.flatMap((g) => g.points).find((p) => p.channel === channel);
  if (!point) throw new Error(`the ${profile.model} profile has no ${channel} point`);
  const words = await bus.readRegisters(unit, profile.functionCode, point.register, registerWidth(point.type));
  return decodePoint(point, words, { ...DEFAULT_SCALING, wordOrder: profile.wordOrder }).value;
}

export async function readProtocol(bus: ModbusBus, unit: number): Promise<ProtocolName> {
  await requireModel(bus, unit, 'DTSU666');
  const [code = -1] = await bus.readRegisters(unit, 3, DTSU666.protocol, 1);
  const p = protocolOfCode(code);
  if (!p) throw new Error(`0x002C holds ${code}, not a protocol code (1-5)`);
  return p;
}

/** DTSU666 only. After '645' the meter stops answering Modbus; after n.1/E.1/o.1 use that framing. */
export async function setProtocol(bus: ModbusBus, unit: number, protocol: ProtocolName): Promise<void> {
  await requireModel(bus, unit, 'DTSU666');
  await writeConfig(bus, unit, 'DTSU666', DTSU666.protocol, PROTOCOL_CODES[protocol]);
}

export async function readBaud(bus: ModbusBus, unit: number): Promise<number> {
  await requireModel(bus, unit, 'DTSU666');
  const [code = -1] = await bus.readRegisters(unit, 3, DTSU666.baud, 1);
  const baud = baudOfCode(code);
  if (!baud) throw new Error(`0x002D holds ${code}, not a baud code (0-4)`);
  return baud;
}

export async function setBaud(bus: ModbusBus, unit: number, baudRate: number): Promise<void> {
  const code = codeOfBaud(baudRate);
  if (code === undefined) throw new ConverterRefusal(`a DTSU666 offers 1200, 2400, 4800, 9600 or 19200 baud; got ${baudRate}`);
  await requireModel(bus, unit, 'DTSU666');
  await writeConfig(bus, unit, 'DTSU666', DTSU666.baud, code);
}
