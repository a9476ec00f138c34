/**
 * Money as integer minor units. Floats never carry an amount: every amount is a safe integer of the
 * currency's ISO 4217 minor unit, and the one rounding rule (half-even) is applied once per bill line.
 */
declare const minorBrand: unique symbol;
/** An amount in integer minor units (UGX: shillings; KES: cents). Debit positive in the ledger. */
export type Minor = number & { readonly [minorBrand]: true };

export const CURRENCIES = {
  UGX: { minorUnit: 0 },
  KES: { minorUnit: 2 },
  TZS: { minorUnit: 2 },
  RWF: { minorUnit: 0 },
  BIF: { minorUnit: 0 },
  SSP: { minorUnit: 2 },
  ETB: { minorUnit: 2 },
  USD: { minorUnit: 2 },
  EUR: { minorUnit: 2 },
} as const;
export type Currency = keyof typeof CURRENCIES;
export const CURRENCY_CODES = Object.keys(CURRENCIES) as [Currency, ...Currency[]];

export function isCurrency(code: string): code is Currency {
  return Object.prototype.hasOwnProperty.call(CURRENCIES, code);
}

/** Brands n as an amount; refuses fractions and integers beyond 2^53 (they would silently round). */
export function minor(n: number): Minor {
  if (!Number.isSafeInteger(n)) throw new RangeError(`an amount must be a safe integer of minor units, got ${n}`);
  return n as Minor;
}

export function addMinor(...xs: readonly Minor[]): Minor {
  let s = 0;
  for (const x of xs) s += x;
  return minor(s);
}

export function negate(x: Minor): Minor {
  return minor(x === 0 ? 0 : -(x as number));
}

/**
 * THE rounding rule: num/den rounded half-to-even to an integer. Exact in BigInt, so a product of a
 * large quantity and a fine price never loses a digit. Used once per bill line, never per interval.
 */
export function divHalfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError('denominator must be positive');
  const neg = num < 0n;
  const a = neg ? -num : num;
  let q = a / den;
  const r2 = (a % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** Big integer to a branded amount, refusing what does not fit a safe integer. */
export function minorFromBig(x: bigint): Minor {
  if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError(`amount ${x} is too large`);
  return minor(Number(x));
}

/** "UGX 1,250" or "KES -25.50": major units with exactly the currency's minor digits. */
export function formatMinor(amount: Minor, currency: Currency): string {
  const d = CURRENCIES[currency].minorUnit;
  const neg = amount < 0;
  const digits = String(Math.abs(amount)).padStart(d + 1, '0');
  const whole = digits.slice(0, digits.length - d).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = d > 0 ? `.${digits.slice(digits.length - d)}` : '';
  return `${currency} ${neg ? '-' : ''}${whole}${frac}`;
}

/** Parses "25.50" (major units) exactly into minor units; refuses more digits than the currency has. */
export function parseMajor(text: string, currency: Currency): Minor {
  const d = CURRENCIES[currency].minorUnit;
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not an amount: "${text}"`);
  const frac = m[3] ?? '';
  if (frac.length > d) throw new RangeError(`${currency} has ${d} decimals; "${text}" has ${frac.length}`);
  const v = Number(`${m[2]}${frac.padEnd(d, '0')}`);
  return minor(m[1] === '-' ? -v : v);
}
