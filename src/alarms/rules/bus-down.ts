import type { MeterInfo } from '../../site/site-runtime.js';
import { busSubject, clear, raise, type Finding } from '../types.js';
import { busLabel, type BusLabel } from './meter-offline.js';

/**
 * Every meter of a bus silent: the adapter, gateway or trunk cable is the likely cause, not the
 * meters. One alarm names the bus, its port and the meters it takes with it; the meters' own
 * offline alarms are held back meanwhile (see LiveRules), so a pulled USB adapter is one alarm and
 * one webhook message, not one per meter.
 * `silentCycles` counts consecutive cycles in which no meter of the bus answered.
 */
export function busDownFinding(
  bus: BusLabel,
  meters: readonly Pick<MeterInfo, 'key' | 'role'>[],
  silentCycles: number,
  offlineCycles: number,
  lastError: string | null,
): Finding {
  const subject = busSubject(bus.id);
  if (silentCycles < offlineCycles) return clear('bus_down', subject, `bus ${busLabel(bus)} answers again`);
  const why = lastError ? `; last error: ${lastError}` : '';
  const n = meters.length;
  return raise(
    'bus_down',
    subject,
    meters.some((m) => m.role === 'main') ? 'critical' : 'major',
    'silent',
    `bus ${busLabel(bus)}: none of its ${n} meter${n === 1 ? '' : 's'} (${meters.map((m) => m.key).join(', ')}) answered for ${silentCycles} poll cycles${why}. ` +
      `Check the USB adapter or gateway, its power and the trunk cable${n === 1 ? ', and the meter itself (it is alone on the bus)' : ''}. ` +
      `The meters' own offline alarms are held back while the bus is down.`,
  );
}
