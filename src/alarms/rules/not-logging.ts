import type { MeterInfo } from '../../site/site-runtime.js';
import { clear, raise, type Finding } from '../types.js';

/**
 * A commissioned (enabled) meter whose newest STORED reading is too old. Unlike meter_offline this
 * looks at the database, so it also catches a recorder that polls fine but cannot write.
 * lastStoredMs undefined = nothing stored yet: counted from when the engine started watching.
 */
export function notLoggingFinding(meter: Pick<MeterInfo, 'key' | 'name'>, lastStoredMs: number | undefined, watchingSinceMs: number, nowMs: number, maxMinutes: number): Finding {
  const since = lastStoredMs ?? watchingSinceMs;
  const minutes = (nowMs - since) / 60_000;
  if (minutes <= maxMinutes) return clear('not_logging', meter.key, `${meter.key} (${meter.name}) is logged again`);
  const what = lastStoredMs === undefined ? 'no reading stored yet' : 'last stored reading';
  return raise(
    'not_logging',
    meter.key,
    'major',
    'stale',
    `${meter.key} (${meter.name}): ${what} ${Math.floor(minutes)} min ago (limit ${maxMinutes} min). Check the recorder, the disk and the meter.`,
  );
}
