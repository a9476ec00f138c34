import type { Values } from './types.js';

/** Summary figures for one meter, for a table row or a card: works for 1- and 3-phase meters alike. */
export interface Summary {
  /** Mean of the phase voltages the meter reports. */
  voltage: number | null;
  /** Highest phase current: the one that trips a breaker. */
  current: number | null;
  powerW: number | null;
  importKWh: number | null;
  exportKWh: number | null;
  lastTs: number | null;
}

const PHASES = ['L1', 'L2', 'L3'] as const;

function phaseValues(values: Values, base: string): number[] {
  const out: number[] = [];
  for (const p of PHASES) {
    const v = values[`${base}_${p}`]?.value;
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** The phases a meter has: from its configuration when the API says, else from the channels it reports. */
export function phasesOf(values: Values, phases?: 1 | 3): Array<(typeof PHASES)[number]> {
  if (phases !== undefined) return PHASES.slice(0, phases);
  return PHASES.filter((p) => values[`Voltage_${p}`] !== undefined || values[`ActivePower_${p}`] !== undefined);
}

export function summarise(values: Values): Summary {
  const volts = phaseValues(values, 'Voltage');
  const amps = phaseValues(values, 'Current');
  let lastTs: number | null = null;
  for (const cv of Object.values(values)) if (cv && cv.quality === 'GOOD' && (lastTs === null || cv.ts > lastTs)) lastTs = cv.ts;
  return {
    voltage: volts.length ? volts.reduce((a, b) => a + b, 0) / volts.length : null,
    current: amps.length ? Math.max(...amps) : null,
    powerW: values['ActivePower']?.value ?? null,
    importKWh: values['EnergyImport']?.value ?? null,
    exportKWh: values['EnergyExport']?.value ?? null,
    lastTs,
  };
}

/** When the newest value shown was read (whatever its quality), or null when there is none. */
export function lastValueTs(values: Values): number | null {
  let ts: number | null = null;
  for (const cv of Object.values(values)) if (cv && cv.value !== null && (ts === null || cv.ts > ts)) ts = cv.ts;
  return ts;
}
