import type { ComponentValues } from '../../channels/process-image.js';
import type { MeterInfo } from '../../site/site-runtime.js';
import { clear, raise, type Finding } from '../types.js';

/**
 * A reading is valid when at least one channel is GOOD and none is ERROR. Judging the worst channel
 * alone would keep a recovered meter "offline" until its slow energy block (read every few cycles)
 * is fresh again; a comm failure marks every channel ERROR, so it is never missed.
 */
export function hasValidReading(values: ComponentValues): boolean {
  const all = Object.values(values);
  return all.some((v) => v.quality === 'GOOD') && !all.some((v) => v.quality === 'ERROR');
}

/** Consecutive poll cycles without a valid reading, per meter. */
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

/** The main meter is the site's connection point: without it the site is blind, so it is critical. */
export function offlineFinding(meter: Pick<MeterInfo, 'key' | 'name' | 'role'>, badCycles: number, offlineCycles: number, lastError: string | null): Finding {
  if (badCycles < offlineCycles) return clear('meter_offline', meter.key, `${meter.key} (${meter.name}) answers again`);
  const why = lastError ? ` (last error: ${lastError})` : '';
  return raise(
    'meter_offline',
    meter.key,
    meter.role === 'main' ? 'critical' : 'major',
    'offline',
    `${meter.key} (${meter.name}) gave no valid reading for ${badCycles} poll cycles${why}. Check its supply, the RS-485 wiring and its address.`,
  );
}
