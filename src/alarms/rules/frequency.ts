import type { AlarmConfig } from '../alarm-config.js';
import { clear, fmt, raise, SITE_SUBJECT, type Finding } from '../types.js';

/** An open alarm clears only this far inside the band, so a frequency on the edge does not flap. */
export const FREQUENCY_HYSTERESIS_HZ = 0.02;

export interface FrequencyReading {
  readonly meter: string;
  readonly role: 'main' | 'customer';
  readonly hz: number;
}

/**
 * Frequency is one value for the whole grid: the main meter (at the connection point) is trusted;
 * without it, the median of the customer meters, so one faulty meter cannot raise a site alarm.
 */
export function siteFrequency(readings: readonly FrequencyReading[]): { hz: number; source: string } | undefined {
  const main = readings.find((r) => r.role === 'main');
  if (main) return { hz: main.hz, source: main.meter };
  const sorted = [...readings].sort((a, b) => a.hz - b.hz);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)];
  return mid ? { hz: mid.hz, source: `median of ${sorted.length} meters` } : undefined;
}

export function frequencyFinding(hz: number, source: string, cfg: AlarmConfig['frequency'], wasOpen: boolean): Finding {
  const margin = wasOpen ? FREQUENCY_HYSTERESIS_HZ : 0;
  if (hz >= cfg.minHz + margin && hz <= cfg.maxHz - margin) return clear('frequency', SITE_SUBJECT, `frequency back in range: ${fmt(hz, 2)} Hz`);
  const under = hz < cfg.minHz + margin;
  return raise(
    'frequency',
    SITE_SUBJECT,
    'major',
    under ? 'under' : 'over',
    `grid ${under ? 'under' : 'over'}-frequency: ${fmt(hz, 2)} Hz (${source}), allowed ${cfg.minHz}-${cfg.maxHz} Hz.`,
  );
}
