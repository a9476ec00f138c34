import type { MeterConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { maxPowerW } from '../drivers/meter-rating.js';
import { meterKey, resolveProfile } from '../site/devices.js';

/**
 * Each meter's physical limit (W) by its key, looked up in the meter list in force at the time
 * (meters are added and changed while the system runs). Unknown meters or types have none.
 */
export function meterPowerLimits(meters: () => readonly MeterConfig[], profiles: ReadonlyMap<string, DeviceProfile>): (key: string) => number | undefined {
  return (key) => {
    const m = meters().find((x) => meterKey(x) === key);
    if (!m) return undefined;
    try {
      return maxPowerW(resolveProfile(m.type, profiles), m);
    } catch {
      return undefined;
    }
  };
}
