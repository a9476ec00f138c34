import type { MeterConfig } from '../config/site-config.js';
import { METER_TYPE_ALIASES } from '../config/bus-meter-schemas.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import type { PolledDevice } from '../modbus/poller.js';

/** The component name of a meter in the channel model, e.g. meter12 for Modbus address 12. */
export const meterKey = (m: Pick<MeterConfig, 'id'>): string => `meter${m.id}`;

export function resolveProfile(type: string, profiles: ReadonlyMap<string, DeviceProfile>): DeviceProfile {
  const model = (METER_TYPE_ALIASES[type] ?? type).toUpperCase();
  const profile = profiles.get(model);
  if (!profile) {
    const allowed = [...Object.keys(METER_TYPE_ALIASES), ...profiles.keys()].join(', ');
    throw new Error(`type: no device profile for "${type}"; allowed: ${allowed} (or add a profile file)`);
  }
  return profile;
}

export function toPolledDevice(m: MeterConfig, profiles: ReadonlyMap<string, DeviceProfile>): PolledDevice {
  const profile = resolveProfile(m.type, profiles);
  return {
    key: meterKey(m),
    address: m.address ?? m.id,
    profile,
    functionCode: m.functionCode ?? profile.functionCode,
    scaling: { ctRatio: m.ctRatio, ptRatio: m.ptRatio, invert: m.invert, wordOrder: m.wordOrder ?? profile.wordOrder },
  };
}
