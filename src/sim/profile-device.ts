import { decodePoint, encodePoint, DEFAULT_SCALING, type ScalingOptions } from '../drivers/point-codec.js';
import { registerWidth, type DeviceProfile, type PointSpec } from '../drivers/profile-schema.js';
import { EXCEPTION, refuse, type ModbusRefusal, type RegisterDevice } from './device.js';

/**
 * A simulated device whose register image is its profile (like meter-image.ts for meters): values are
 * encoded with the same point codec the driver decodes with, and writes to `writable` points are
 * decoded the same way and handed to the physics. What the profile says about the link is enforced:
 * the function code (an SRNE answers FC04 with exception 01), the largest read (exception 0x0A past
 * 32 registers on an SRNE, SRNE protocol V1.96), read-only registers (exception 02), limits (exception 03).
 *
 * Values are keyed like the driver's decoded values: `Soc`, and `pv/ActivePower` for a sub-component.
 * EEPROM registers count their writes (`eepromWrites`), so tests can see wear.
 */
export interface ProfileDeviceOptions {
  readonly profile: DeviceProfile;
  readonly address: number;
  /** Engineering values now, keyed as decodePoint keys them. */
  readonly values: () => Readonly<Record<string, number>>;
  /** A write the device accepted (after decoding and limit checks); return a refusal to reject it. */
  readonly onWrite?: (channel: string, value: number) => ModbusRefusal | undefined;
}

export class ProfileDevice implements RegisterDevice {
  readonly profile: DeviceProfile;
  address: number;
  /** Fault injection: acknowledge writes but keep the old values (a read-back then disagrees). */
  ignoreWrites = false;
  /** Writes per EEPROM register, since start. */
  readonly eepromWrites = new Map<number, number>();
  private readonly scaling: ScalingOptions;
  private readonly byRegister = new Map<number, PointSpec>();
  private readonly ranges: Array<readonly [number, number]> = [];

  constructor(private readonly o: ProfileDeviceOptions) {
    this.profile = o.profile;
    this.address = o.address;
    this.scaling = { ...DEFAULT_SCALING, wordOrder: o.profile.wordOrder };
    for (const p of o.profile.groups.flatMap((g) => g.points)) {
      this.byRegister.set(p.register, p);
      this.ranges.push([p.register, p.register + registerWidth(p.type)]);
    }
  }

  /** The register image now: register -> word. */
  image(): Map<number, number> {
    const words = new Map<number, number>();
    const values = this.o.values();
    for (const p of this.byRegister.values()) {
      const v = values[keyOf(p)];
      if (v === undefined || !Number.isFinite(v)) continue;
      encodePoint(p, v, this.scaling).forEach((w, i) => words.set(p.register + i, w));
    }
    return words;
  }

  readRegisters(functionCode: 3 | 4, start: number, count: number): number[] | ModbusRefusal {
    if (functionCode !== this.profile.functionCode) return refuse(EXCEPTION.illegalFunction);
    if (count > this.profile.maxReadRegisters) return refuse(EXCEPTION.gatewayPathUnavailable);
    if (!this.served(start, count)) return refuse(EXCEPTION.illegalDataAddress);
    const image = this.image();
    return Array.from({ length: count }, (_, i) => image.get(start + i) ?? 0);
  }

  writeRegisters(start: number, words: readonly number[]): ModbusRefusal | undefined {
    // A write must cover whole writable points.
    const writes: Array<{ point: PointSpec; value: number }> = [];
    for (let r = start; r < start + words.length;) {
      const p = this.byRegister.get(r);
      if (!p?.writable) return refuse(EXCEPTION.illegalDataAddress);
      const width = registerWidth(p.type);
      if (r + width > start + words.length) return refuse(EXCEPTION.illegalDataAddress);
      const { value } = decodePoint({ ...p, component: undefined }, words.slice(r - start, r - start + width), this.scaling);
      if (value < p.writable.min - 1e-9 || value > p.writable.max + 1e-9) return refuse(EXCEPTION.illegalDataValue);
      writes.push({ point: p, value });
      r += width;
    }
    if (this.ignoreWrites) return undefined;
    for (const w of writes) {
      const refused = this.o.onWrite?.(keyOf(w.point), w.value);
      if (refused) return refused;
      if (w.point.writable?.eeprom) this.eepromWrites.set(w.point.register, (this.eepromWrites.get(w.point.register) ?? 0) + 1);
    }
    return undefined;
  }

  private served(start: number, count: number): boolean {
    // Every register of the request inside the profile's map, or in a gap of at most maxGap between mapped ones.
    const end = start + count;
    const inside = this.ranges.filter(([a, b]) => b > start && a < end);
    if (inside.length === 0) return false;
    const lo = Math.min(...inside.map(([a]) => a));
    const hi = Math.max(...inside.map(([, b]) => b));
    return start >= lo - this.profile.maxGap && end <= hi + this.profile.maxGap;
  }
}

const keyOf = (p: PointSpec): string => (p.component ? `${p.component}/${p.channel}` : p.channel);
