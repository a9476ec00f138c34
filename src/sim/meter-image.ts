import { encodePoint, DEFAULT_SCALING, type ScalingOptions } from '../drivers/point-codec.js';
import { pointSchema, registerWidth, type DeviceProfile, type PointSpec } from '../drivers/profile-schema.js';
import { EXCEPTION, refuse, type ModbusRefusal, type RegisterDevice } from './device.js';

/**
 * The register table of a simulated CHINT meter, built from the same device profile the driver
 * decodes with (encodePoint is decodePoint's inverse), so a poller, mbpoll or the field team's
 * commands all read the numbers a real meter would hold.
 *
 * Unmapped registers inside a served window read as 0. A window is each 256-register page that holds
 * a mapped register, from the page start to the last mapped register rounded up to 16. Real firmware
 * may answer exception 02 for some of those gaps instead; outside the windows we answer 02 as well.
 */
export interface ConfigRegister {
  readonly register: number;
  readonly name: string;
  readonly value: number;
  /** Accepted values for FC06/FC16; absent = read-only (a write gets exception 02). */
  readonly writable?: { readonly min: number; readonly max: number };
}

/** Configuration registers per model (docs/modbus.md#chint-dtsu666, #chint-ddsu666). */
function configRegisters(profile: DeviceProfile): ConfigRegister[] {
  const address: ConfigRegister = { register: profile.addressRegister ?? 0xffff, name: 'Addr', value: 0, writable: { min: 1, max: 247 } };
  switch (profile.model.toUpperCase()) {
    case 'DTSU666':
      return [
        { register: 0x0000, name: 'REV', value: 0x0100 }, // software version: any plausible number
        { register: 0x0001, name: 'UCode', value: 701, writable: { min: 0, max: 9999 } },
        { register: 0x0003, name: 'net', value: 0 }, // 0 = 3P4W
        { register: 0x0006, name: 'IrAt', value: 1, writable: { min: 1, max: 9999 } }, // CT ratio, NOT the address
        { register: 0x0007, name: 'UrAt', value: 10, writable: { min: 1, max: 9999 } }, // PT ratio x 0.1
        { register: 0x002c, name: 'Protocol', value: 2, writable: { min: 1, max: 5 } }, // 2 = n.2
        { register: 0x002d, name: 'bAud', value: 3, writable: { min: 0, max: 4 } }, // 3 = 9600
        ...(profile.addressRegister === undefined ? [] : [address]),
      ];
    default:
      return profile.addressRegister === undefined ? [] : [address];
  }
}

const alias = (register: number, channel: string, ratio: 'none' | 'ctpt'): PointSpec =>
  pointSchema.parse({ register, type: 'float32', channel, unit: 'kWh', ratio });

/** Registers some firmware serves beyond the profile (docs/modbus.md#chint-dtsu666); the field team's mbpoll reads 0x4000. */
const FIRMWARE_ALIASES: Record<string, readonly PointSpec[]> = {
  DTSU666: [alias(0x4000, 'EnergyImport', 'ctpt'), alias(0x101e, 'EnergyImport', 'ctpt'), alias(0x1028, 'EnergyExport', 'ctpt')],
};

export interface SimulatedMeterOptions {
  readonly profile: DeviceProfile;
  readonly address: number;
  /** Engineering values by channel name, read at each request (the model decides what "now" is). */
  readonly values: () => Readonly<Record<string, number>> | undefined;
  /** The installed transformers: a CT-connected meter holds secondary values. Default 1:1. */
  readonly ctRatio?: number;
  readonly ptRatio?: number;
}

export class SimulatedMeter implements RegisterDevice {
  readonly profile: DeviceProfile;
  private currentAddress: number;
  private readonly points: readonly PointSpec[];
  private readonly config = new Map<number, ConfigRegister & { value: number }>();
  private readonly windows: ReadonlyArray<readonly [number, number]>;
  private readonly scaling: ScalingOptions;
  private readonly values: SimulatedMeterOptions['values'];

  constructor(o: SimulatedMeterOptions) {
    this.profile = o.profile;
    this.currentAddress = o.address;
    this.values = o.values;
    this.scaling = { ...DEFAULT_SCALING, ctRatio: o.ctRatio ?? 1, ptRatio: o.ptRatio ?? 1, wordOrder: o.profile.wordOrder };
    this.points = [...o.profile.groups.flatMap((g) => g.points), ...(FIRMWARE_ALIASES[o.profile.model.toUpperCase()] ?? [])];
    for (const c of configRegisters(o.profile)) this.config.set(c.register, { ...c });
    this.windows = servedWindows([
      ...this.points.map((p) => [p.register, p.register + registerWidth(p.type)] as const),
      ...[...this.config.keys()].map((r) => [r, r + 1] as const),
    ]);
  }

  get address(): number {
    return this.currentAddress;
  }

  /** The whole register image now: register -> word. */
  image(): Map<number, number> {
    const words = new Map<number, number>();
    const values = this.values() ?? {};
    for (const p of this.points) {
      const v = values[p.channel];
      if (v === undefined) continue;
      encodePoint(p, v, this.scaling).forEach((w, i) => words.set(p.register + i, w));
    }
    for (const [register, c] of this.config) words.set(register, register === this.profile.addressRegister ? this.currentAddress : c.value);
    return words;
  }

  /** FC03 and FC04 serve the same image (CHINT meters answer both; docs/modbus.md#chint-dtsu666). */
  readRegisters(_functionCode: 3 | 4, start: number, count: number): number[] | ModbusRefusal {
    if (!this.served(start, count)) return refuse(EXCEPTION.illegalDataAddress);
    const image = this.image();
    return Array.from({ length: count }, (_, i) => image.get(start + i) ?? 0);
  }

  /** Only configuration registers are writable; writing the address register moves the meter to the new address. */
  writeRegisters(start: number, words: readonly number[]): ModbusRefusal | undefined {
    const targets = words.map((_, i) => this.config.get(start + i));
    if (targets.some((c) => c?.writable === undefined)) return refuse(EXCEPTION.illegalDataAddress);
    const outOfRange = (c: ConfigRegister | undefined, w: number): boolean => !c?.writable || w < c.writable.min || w > c.writable.max;
    if (targets.some((c, i) => outOfRange(c, words[i] ?? -1))) {
      return refuse(EXCEPTION.illegalDataValue);
    }
    words.forEach((w, i) => {
      const c = this.config.get(start + i);
      if (c) c.value = w;
      if (start + i === this.profile.addressRegister) this.currentAddress = w;
    });
    return undefined;
  }

  /** Current value of a configuration register (e.g. the stored CT ratio). */
  configValue(register: number): number | undefined {
    if (register === this.profile.addressRegister) return this.currentAddress;
    return this.config.get(register)?.value;
  }

  private served(start: number, count: number): boolean {
    return this.windows.some(([from, to]) => start >= from && start + count <= to);
  }
}

/** Groups mapped register ranges into served windows (see the file comment). */
function servedWindows(ranges: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  const lastEndByPage = new Map<number, number>();
  for (const [from, to] of ranges) {
    const page = from & 0xff00;
    lastEndByPage.set(page, Math.max(lastEndByPage.get(page) ?? 0, to));
  }
  return [...lastEndByPage].map(([page, end]) => [page, Math.min(0x10000, Math.ceil(end / 16) * 16)] as const);
}
