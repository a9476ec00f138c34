import { clear, fmt, raise, type Finding } from '../types.js';

/** What the engine remembers of one meter's export counter (persisted: a restart must not forget a tamper). */
export interface ExportWatch {
  /** The counter when the engine first saw it, or when the last alarm cleared. */
  readonly baselineKWh: number;
  readonly lastKWh: number;
  /** When the counter last rose; an open alarm clears after QUIET_MS without a rise. */
  readonly lastRiseAt: number;
}

/** A reverse alarm clears once the counter has not moved for this long (the wiring was fixed). */
export const REVERSE_QUIET_MS = 60 * 60_000;

/** A counter that falls by more than this was reset or the meter was replaced: start over. */
const RESET_KWH = 0.01;

export interface ExportStep {
  readonly watch: ExportWatch;
  readonly finding: Finding;
}

/**
 * A consumption meter counts export only when it is wired backwards (CT or L/N swapped) or tampered
 * with. Raises once the export counter rose more than limitKWh since the baseline.
 */
export function reverseEnergyStep(
  meter: string,
  prev: ExportWatch | undefined,
  exportKWh: number,
  nowMs: number,
  limitKWh: number,
  wasOpen: boolean,
): ExportStep {
  if (!prev || exportKWh < prev.lastKWh - RESET_KWH) {
    return {
      watch: { baselineKWh: exportKWh, lastKWh: exportKWh, lastRiseAt: nowMs },
      finding: clear('reverse_energy', meter, `${meter}: export counter (re)started at ${fmt(exportKWh, 2)} kWh`),
    };
  }
  const watch = exportKWh > prev.lastKWh ? { ...prev, lastKWh: exportKWh, lastRiseAt: nowMs } : prev;
  if (wasOpen && nowMs - watch.lastRiseAt >= REVERSE_QUIET_MS) {
    return { watch: { ...watch, baselineKWh: exportKWh }, finding: clear('reverse_energy', meter, `${meter}: no export for ${REVERSE_QUIET_MS / 60_000} min`) };
  }
  const rise = exportKWh - watch.baselineKWh;
  if (rise <= limitKWh) return { watch, finding: clear('reverse_energy', meter, `${meter}: export within ${limitKWh} kWh`) };
  return {
    watch,
    finding: raise(
      'reverse_energy',
      meter,
      'major',
      'export',
      `${meter} is a consumption meter but exported ${fmt(rise, 2)} kWh (counter ${fmt(watch.baselineKWh, 2)} -> ${fmt(exportKWh, 2)} kWh, limit ${limitKWh} kWh). Check wiring polarity (CT, L/N) and look for tamper.`,
    ),
  };
}
