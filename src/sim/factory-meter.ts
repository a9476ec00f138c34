import { isWildcard, serialToAddress } from '../dlt645/address.js';
import { CONTROL, type Dlt645Frame } from '../dlt645/frame.js';
import { DI, energyPayload, errorReply, readAddressReply, readDataReply } from '../dlt645/messages.js';
import {
  DDSU666_ADDRESS,
  DTSU666,
  FACTORY_MODBUS_ADDRESS,
  PROTOCOL_CODES,
  protocolOfCode,
  type MeterModel,
  type ProtocolName,
} from '../dlt645/converter-registers.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { loadProfiles } from '../drivers/profiles.js';
import type { RegisterDevice } from './device.js';
import { SimulatedMeter } from './meter-image.js';

/**
 * One CHINT meter on a lab bench as it leaves the factory: "DL/T 645-2007 protocol, Parity (E.1),
 * 9600 bps" (CHINT DTSU666 quick operation manual), its 12-digit serial number as DL/T645 address, an energy register.
 *
 * It answers DL/T645 read-address (0x13) and read-data (0x11: DI 00 01 00 00, else error 0xD1/02).
 * It does NOT switch protocol on any DL/T645 frame: no public document describes a DL/T645 write
 * (0x14) that switches to Modbus (docs/modbus.md), so writes are refused (error 0x04).
 * The documented route is the front panel (password 701): after it the meter speaks Modbus RTU at
 * address 1 with the same register image as the simulator's meters. On a DTSU666, writing 0x002C
 * over Modbus switches the protocol (back to 645, or another parity); writing 0x002E moves it.
 * Over TCP or a pty there is no real parity, so the protocol only decides which frames it answers.
 */
export interface FactoryMeterOptions {
  readonly model: MeterModel;
  readonly serial: string;
  readonly energyKWh?: number;
  /** Mains voltage at the bench socket (default 230 V) and frequency (50 Hz). */
  readonly voltage?: number;
  readonly frequency?: number;
  readonly profiles?: ReadonlyMap<string, DeviceProfile>;
  /** Menu password of a DDSU666 (a DTSU666 holds its own in UCode, 0x0001); default 701. */
  readonly panelPassword?: number;
}

export interface FrontPanel {
  readonly protocol: ProtocolName;
  /** Programming menu, password, Conn/Protocol = `protocol`, save. Throws on a wrong password. */
  setProtocol(protocol: ProtocolName, password?: number): void;
}

export interface FactoryMeterCounters {
  dlt645Requests: number;
  dlt645Replies: number;
}

export const DEFAULT_PANEL_PASSWORD = 701;

function benchValues(model: MeterModel, m: FactoryMeter): Record<string, number> {
  const v = m.voltage;
  const common = { Frequency: m.frequency, EnergyImport: m.energyKWh, EnergyExport: 0, ActivePower: 0, ReactivePower: 0, PowerFactor: 1 };
  if (model === 'DDSU666') return { ...common, Voltage_L1: v, Current_L1: 0 };
  const ll = Number((v * Math.sqrt(3)).toFixed(1));
  return {
    ...common,
    Voltage_L1: v,
    Voltage_L2: v,
    Voltage_L3: v,
    Voltage_L12: ll,
    Voltage_L23: ll,
    Voltage_L31: ll,
    Current_L1: 0,
    Current_L2: 0,
    Current_L3: 0,
  };
}

export class FactoryMeter {
  readonly model: MeterModel;
  readonly serial: string;
  readonly dlt645Address: Buffer;
  energyKWh: number;
  voltage: number;
  frequency: number;
  /** The Modbus register image (the same class the simulator's meters use). */
  readonly image: SimulatedMeter;
  /** What a Modbus bus sees; the bench only routes Modbus frames to it while the meter speaks Modbus. */
  readonly modbus: RegisterDevice;
  readonly frontPanel: FrontPanel;
  readonly counters: FactoryMeterCounters = { dlt645Requests: 0, dlt645Replies: 0 };
  private ddsuProtocol: ProtocolName = '645';

  constructor(private readonly o: FactoryMeterOptions) {
    this.model = o.model;
    this.serial = o.serial;
    this.dlt645Address = serialToAddress(o.serial);
    this.energyKWh = o.energyKWh ?? 0;
    this.voltage = o.voltage ?? 230;
    this.frequency = o.frequency ?? 50;
    const profile = (o.profiles ?? loadProfiles()).get(o.model);
    if (!profile) throw new Error(`no ${o.model} profile loaded`);
    this.image = new SimulatedMeter({ profile, address: FACTORY_MODBUS_ADDRESS, values: () => benchValues(o.model, this) });
    if (o.model === 'DTSU666') this.image.writeRegisters(DTSU666.protocol, [PROTOCOL_CODES['645']]);
    const image = this.image;
    this.modbus = {
      get address() {
        return image.address;
      },
      readRegisters: (fc, start, count) => image.readRegisters(fc, start, count),
      writeRegisters: (start, words) => image.writeRegisters(start, words),
    };
    const protocolNow = (): ProtocolName => this.protocol;
    this.frontPanel = {
      get protocol() {
        return protocolNow();
      },
      setProtocol: (p, password = DEFAULT_PANEL_PASSWORD) => this.panelSetProtocol(p, password),
    };
  }

  /** A DTSU666 keeps its protocol in 0x002C (so a Modbus write changes it); a DDSU666 in its menu. */
  get protocol(): ProtocolName {
    if (this.model === 'DDSU666') return this.ddsuProtocol;
    return protocolOfCode(this.image.configValue(DTSU666.protocol) ?? 0) ?? '645';
  }

  get speaksModbus(): boolean {
    return this.protocol !== '645';
  }

  /** The Modbus address now (1 from the factory; DDSU666 0x0006, DTSU666 0x002E). */
  get modbusAddress(): number {
    return this.image.configValue(this.model === 'DDSU666' ? DDSU666_ADDRESS : DTSU666.address) ?? FACTORY_MODBUS_ADDRESS;
  }

  /** The reply to one DL/T645 request frame, or undefined (not ours, not in DL/T645 mode). */
  answerDlt645(frame: Dlt645Frame): Buffer | undefined {
    if (this.speaksModbus) return undefined;
    const ours = frame.address.equals(this.dlt645Address) || isWildcard(frame.address);
    if (!ours) return undefined;
    this.counters.dlt645Requests++;
    const reply = this.reply(frame);
    if (reply) this.counters.dlt645Replies++;
    return reply;
  }

  private reply(frame: Dlt645Frame): Buffer | undefined {
    const a = this.dlt645Address;
    switch (frame.control) {
      case CONTROL.readAddress:
        return isWildcard(frame.address) ? readAddressReply(a) : undefined;
      case CONTROL.read: {
        if (frame.data.length < 4) return errorReply(a, frame.control, 0x01);
        const di = frame.data.readUInt32LE(0);
        return di === DI.activeImportTotal ? readDataReply(a, di, energyPayload(this.energyKWh)) : errorReply(a, frame.control, 0x02);
      }
      case CONTROL.write:
        return errorReply(a, frame.control, 0x04); // no DL/T645 write is known to switch protocol; refuse them all
      default:
        return undefined;
    }
  }

  private panelSetProtocol(p: ProtocolName, password: number): void {
    const expected = this.model === 'DTSU666' ? (this.image.configValue(0x0001) ?? DEFAULT_PANEL_PASSWORD) : (this.o.panelPassword ?? DEFAULT_PANEL_PASSWORD);
    if (password !== expected) throw new Error(`front panel: wrong password ${password}; the menu stays locked`);
    if (this.model === 'DTSU666') this.image.writeRegisters(DTSU666.protocol, [PROTOCOL_CODES[p]]);
    else this.ddsuProtocol = p;
  }
}
