import type { PollStatus } from '../../site/site-runtime.js';
import type { MeterInfo } from '../../site/site-runtime.js';
import { clear, raise, type Finding } from '../types.js';

/**
 * A meter is judged by its last poll: did it answer? Channel qualities are no guide, because a slow
 * group (energy, read every few cycles) keeps whatever its own last read left, and a meter that
 * answers again would otherwise look failed until that group is read again. Never polled = no answer.
 */
export function answeredLastPoll(status: PollStatus | null): boolean {
  return status?.ok === true;
}

/** Consecutive poll cycles without an answer, per meter (or per bus, keyed by its alarm subject). */
export class BadCycleCounter {
  private readonly counts = new Map<string, number>();

  record(meter: string, valid: boolean): number {
    const n = valid ? 0 : (this.counts.get(meter) ?? 0) + 1;
    this.counts.set(meter, n);
    return n;
  }

  count(meter: string): number {
    return this.counts.get(meter) ?? 0;
  }
}

/** Where the meter hangs, for messages: the bus and its port. */
export interface BusLabel {
  readonly id: string;
  readonly port: string | null;
}

export const busLabel = (b: BusLabel): string => (b.port ? `${b.id} (${b.port})` : b.id);

/** The main meter is the site's connection point: without it the site is blind, so it is critical. */
export function offlineFinding(
  meter: Pick<MeterInfo, 'key' | 'name' | 'role'>,
  badCycles: number,
  offlineCycles: number,
  lastError: string | null,
  bus?: BusLabel,
): Finding {
  if (badCycles < offlineCycles) return clear('meter_offline', meter.key, `${meter.key} (${meter.name}) answers again`);
  const why = lastError ? ` (last error: ${lastError})` : '';
  // Other meters on the same bus answer (otherwise the bus alarm would stand in for this one), so
  // the cause is this meter or its own drop of the line.
  const where = bus ? ` on bus ${busLabel(bus)}, whose other meters answer` : '';
  return raise(
    'meter_offline',
    meter.key,
    meter.role === 'main' ? 'critical' : 'major',
    'offline',
    `${meter.key} (${meter.name}) gave no valid reading for ${badCycles} poll cycles${why}${where}. Check its supply, its RS-485 wiring and its address.`,
  );
}
