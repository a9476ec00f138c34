import { smoothNoise, streamId } from './prng.js';

/**
 * Daily load shapes of mini-grid customers. Every function here is pure in (kind, seed, time), so a
 * model can be evaluated at any instant in any order and still give the same numbers.
 */
export type LoadKind = 'household' | 'shop';

const HOUR_MS = 3_600_000;

/** Local hour of day in [0, 24). */
export function hourOfDay(tMs: number, utcOffsetHours = 0): number {
  const h = (tMs / HOUR_MS + utcOffsetHours) % 24;
  return h < 0 ? h + 24 : h;
}

/** A bell centred on `centre` hours, wrapping round midnight. */
function bump(h: number, centre: number, width: number): number {
  const d = Math.min(Math.abs(h - centre), 24 - Math.abs(h - centre));
  return Math.exp(-(d * d) / (2 * width * width));
}

const rise = (h: number, at: number, ramp: number): number => 1 / (1 + Math.exp(-(h - at) / ramp));

/**
 * Load as a fraction of the customer's peak. Households: low at night and midday, a morning peak
 * (cooking, lights before work) and the larger evening peak. Shops: a daytime plateau, fridges at night.
 */
export function dailyShape(kind: LoadKind, hour: number): number {
  if (kind === 'household') {
    return Math.min(1, 0.12 + 0.45 * bump(hour, 7, 1) + 0.12 * bump(hour, 13, 2.5) + 0.85 * bump(hour, 19.5, 1.6));
  }
  return 0.1 + 0.85 * rise(hour, 8, 0.4) * (1 - rise(hour, 19, 0.4));
}

export interface LoadSample {
  readonly watts: number;
  readonly powerFactor: number;
}

const LOAD_NOISE = streamId('load');
const PF_NOISE = streamId('pf');
const CLOUD_NOISE = streamId('cloud');

/** The customer's consumption at time t: daily shape x peak, with minute-scale seeded noise (about 15 %). */
export function loadAt(kind: LoadKind, seed: number, tMs: number, peakW: number, utcOffsetHours = 0): LoadSample {
  const shape = dailyShape(kind, hourOfDay(tMs, utcOffsetHours));
  const noise = 1 + 0.15 * smoothNoise(seed, LOAD_NOISE, tMs, 60_000);
  const watts = Math.max(0, peakW * shape * noise);
  // Motors (fridges, fans) make shops more inductive than households.
  const basePf = kind === 'shop' ? 0.88 : 0.95;
  const powerFactor = Math.min(0.999, Math.max(0.7, basePf + 0.02 * smoothNoise(seed, PF_NOISE, tMs, 300_000)));
  return { watts, powerFactor };
}

/** Rooftop PV output in W (>= 0): a half-sine from 06:00 to 18:00 local, dimmed by passing clouds. */
export function pvAt(seed: number, tMs: number, peakW: number, utcOffsetHours = 0): number {
  const h = hourOfDay(tMs, utcOffsetHours);
  if (peakW <= 0 || h <= 6 || h >= 18) return 0;
  const clear = Math.sin((Math.PI * (h - 6)) / 12);
  const cloud = Math.min(1, Math.max(0.2, 0.85 + 0.2 * smoothNoise(seed, CLOUD_NOISE, tMs, 600_000)));
  return peakW * clear * cloud;
}
