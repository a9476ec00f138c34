import type { MeterInfo } from '../../site/site-runtime.js';
import { clear, raise, type Finding } from '../types.js';

/**
 * A commissioned (enabled) meter that answers but whose newest STORED reading is too old. Unlike
 * meter_offline this looks at the database, so it catches a recorder that polls fine but cannot write.
 * lastStoredMs undefined = nothing stored yet: counted from when the engine started watching.
 * answeringSinceMs = when the meter began answering again: a meter back from an outage is given the
 * same limit to be stored before its old last reading counts against the recorder.
 */
export function notLoggingFinding(
  meter: Pick<MeterInfo, 'key' | 'name'>,
  lastStoredMs: number | undefined,
  watchingSinceMs: number,
  nowMs: number,
  maxMinutes: number,
  answeringSinceMs?: number,
): Finding {
  const stored = lastStoredMs ?? watchingSinceMs;
  const since = Math.max(stored, answeringSinceMs ?? -Infinity);
  const minutes = (nowMs - since) / 60_000;
  if (minutes <= maxMinutes) return clear('not_logging', meter.key, `${meter.key} (${meter.name}) is logged again`);
  const what = lastStoredMs === undefined ? 'no reading stored yet' : 'last stored reading';
  // Stored times are whole seconds: only a real outage before the answers is worth a mention.
  const answering = since - stored >= 60_000 ? `, although it has answered polls for ${Math.floor(minutes)} min` : '';
  return raise(
    'not_logging',
    meter.key,
    'major',
    'stale',
    `${meter.key} (${meter.name}): ${what} ${Math.floor((nowMs - stored) / 60_000)} min ago${answering} (limit ${maxMinutes} min). ` +
      `The meter answers, so check the recorder and the disk.`,
  );
}
