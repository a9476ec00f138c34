import type { DeviceProfile } from './profile-schema.js';

export interface RatedMeter {
  readonly ctRatio: number;
  /** A configured limit wins over the profile's rating. */
  readonly maxPowerW?: number;
}

/**
 * The most power a meter can measure (W): Imax x nominal voltage x its operating margin x phases,
 * where a CT-connected meter's Imax is its input's times the CT ratio. Undefined when neither the
 * meter nor its profile says: then only backwards steps are quarantined.
 */
export function maxPowerW(profile: Pick<DeviceProfile, 'phases' | 'rating'>, m: RatedMeter): number | undefined {
  if (m.maxPowerW !== undefined) return m.maxPowerW;
  const r = profile.rating;
  if (!r) return undefined;
  const current = m.ctRatio > 1 && r.ctMaxCurrentA !== undefined ? r.ctMaxCurrentA * m.ctRatio : r.maxCurrentA;
  return current * r.nominalVoltageV * r.maxVoltageFactor * profile.phases;
}
