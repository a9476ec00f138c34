/** Currency exponents and phone-number forms shared by the adapters (docs/payments.md#rules). */

/** ISO 4217 minor-unit exponent from Node's ICU: UGX has none (ISO 4217 exponent 0). */
export function currencyExponent(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Integer minor units -> major units as a number (Airtel `amount` number, Pesapal `amount` float). */
export function toMajor(amountMinor: number, currency: string): number {
  return amountMinor / 10 ** currencyExponent(currency);
}

/** Major units as sent or returned by a provider -> integer minor units; fractions of a minor unit are refused. */
export function toMinor(major: number | string, currency: string): number {
  const n = typeof major === 'string' ? Number(major) : major;
  const minor = Math.round(n * 10 ** currencyExponent(currency));
  if (!Number.isFinite(n) || Math.abs(minor - n * 10 ** currencyExponent(currency)) > 1e-6)
    throw new Error(`amount ${major} ${currency} is not a whole number of minor units`);
  return minor;
}

/** Rejects fractional or non-positive minor amounts at our own boundary (docs/payments.md#rules). */
export function assertMinor(amountMinor: number): void {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new Error(`amount must be a positive integer of minor units, got ${amountMinor}`);
}

/**
 * Accepts 07XXXXXXXX, 7XXXXXXXX, 2567..., +2567... and returns the 9-digit national number (ITU-T E.164, Uganda +256).
 * Other digit strings (e.g. MTN sandbox numbers 46733123450) are returned unchanged.
 */
export function nationalNumber(msisdn: string): string {
  const d = msisdn.replace(/[\s-]/g, '').replace(/^\+/, '');
  if (/^256\d{9}$/.test(d)) return d.slice(3);
  if (/^0\d{9}$/.test(d)) return d.slice(1);
  if (/^\d{9}$/.test(d)) return d;
  if (/^\d{8,15}$/.test(d)) return d;
  throw new Error(`not a phone number: ${msisdn}`);
}

/** MTN wants 256XXXXXXXXX: country code, no plus (MTN Common Error Codes, PAYER_NOT_FOUND). */
export function mtnMsisdn(msisdn: string): string {
  const n = nationalNumber(msisdn);
  return n.length === 9 ? `256${n}` : n;
}

/** Airtel wants the 9-digit national number, "Do not send country code in msisdn" (Airtel USSD push docs). */
export function airtelMsisdn(msisdn: string): string {
  const n = nationalNumber(msisdn);
  return n.length > 9 ? n.slice(-9) : n;
}
