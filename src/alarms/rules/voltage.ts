import type { AlarmConfig } from '../alarm-config.js';
import { clear, fmt, raise, type Finding } from '../types.js';

export const VOLTAGE_CHANNELS = ['Voltage_L1', 'Voltage_L2', 'Voltage_L3'] as const;

/** An open alarm clears only this share of nominal inside the band, so a value on the edge does not flap. */
export const VOLTAGE_HYSTERESIS = 0.005;

/**
 * One phase voltage against nominal +-tolerance. Beyond twice the tolerance appliances fail or
 * protection trips, so it is critical. subject: `meterN/Voltage_Lx`.
 */
export function voltageFinding(subject: string, volts: number, cfg: AlarmConfig['voltage'], wasOpen: boolean): Finding {
  const { nominalV, tolerance } = cfg;
  const margin = wasOpen ? nominalV * VOLTAGE_HYSTERESIS : 0;
  const low = nominalV * (1 - tolerance) + margin;
  const high = nominalV * (1 + tolerance) - margin;
  if (volts >= low && volts <= high) return clear('voltage', subject, `${subject} back in range: ${fmt(volts)} V`);
  const deviation = Math.abs(volts - nominalV) / nominalV;
  const under = volts < low;
  return raise(
    'voltage',
    subject,
    deviation > 2 * tolerance ? 'critical' : 'major',
    under ? 'under' : 'over',
    `${subject} ${under ? 'under' : 'over'}voltage: ${fmt(volts)} V, allowed ${fmt(nominalV * (1 - tolerance))}-${fmt(nominalV * (1 + tolerance))} V (${nominalV} V +-${fmt(tolerance * 100, 0)} %).`,
  );
}
