import { CURRENCIES, divHalfEven, minorFromBig, type Currency, type Minor } from './money.js';

/**
 * Energy prices and quantities as integers so rating is exact:
 * - a price is in 1/10,000 of a minor unit per kWh (UGX 250/kWh = 2,500,000; KES 25.50/kWh = 25,500,000),
 *   which gives 4 decimals below the minor unit;
 * - an energy quantity is in mWh (1e-6 kWh), the resolution the recorder stores.
 * amount = mWh * price / 1e10, rounded half-even once per bill line.
 */
export const PRICE_SCALE = 10_000;
export const MWH_PER_KWH = 1_000_000;
const LINE_DEN = BigInt(PRICE_SCALE) * BigInt(MWH_PER_KWH);

/** kWh as stored (float with 6 decimals) to integer mWh. */
export function toMWh(kWh: number): number {
  if (!Number.isFinite(kWh) || kWh < 0) throw new RangeError(`interval energy must be a finite non-negative kWh, got ${kWh}`);
  return Math.round(kWh * MWH_PER_KWH);
}

export function lineAmount(mWh: number, priceE4: number): Minor {
  return minorFromBig(divHalfEven(BigInt(mWh) * BigInt(priceE4), LINE_DEN));
}

/** "250 UGX/kWh", "25.50 KES/kWh", "25.5025 KES/kWh" (trailing sub-minor zeros dropped). */
export function formatPrice(priceE4: number, currency: Currency): string {
  const d = CURRENCIES[currency].minorUnit + 4;
  const digits = String(priceE4).padStart(d + 1, '0');
  let frac = digits.slice(digits.length - d);
  const keep = CURRENCIES[currency].minorUnit;
  while (frac.length > keep && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${digits.slice(0, digits.length - d)}${frac ? `.${frac}` : ''} ${currency}/kWh`;
}

export function formatKWh(mWh: number): string {
  return `${(mWh / MWH_PER_KWH).toFixed(3)} kWh`;
}
