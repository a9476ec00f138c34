import { createHash, X509Certificate } from 'node:crypto';

/**
 * Device identities of IEEE 2030.5 (§6.3.4), from the device's certificate
 * (docs/csip.md#device-identity):
 * - the certificate fingerprint is SHA-256 over the certificate's DER encoding;
 * - LFDI is the fingerprint's first 160 bits, as 40 hex digits (upper case here);
 * - SFDI is the fingerprint's first 36 bits as a decimal number followed by a check digit that makes
 *   the sum of all digits a multiple of 10.
 */

/** The SHA-256 fingerprint of a DER-encoded certificate, 64 upper-case hex digits. */
export function certificateFingerprint(der: Buffer | Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}

/** LFDI from a fingerprint (hex). */
export function lfdiFromFingerprint(fingerprintHex: string): string {
  if (!/^[0-9a-fA-F]{40,}$/.test(fingerprintHex)) throw new Error(`a fingerprint must be at least 40 hex digits, found "${fingerprintHex}"`);
  return fingerprintHex.slice(0, 40).toUpperCase();
}

/** The check digit appended to an SFDI: (10 − (sum of digits mod 10)) mod 10. */
export function sfdiCheckDigit(n: number): number {
  const sum = String(n)
    .split('')
    .reduce((a, d) => a + Number(d), 0);
  return (10 - (sum % 10)) % 10;
}

/** SFDI from a fingerprint (hex): its first 36 bits (9 hex digits) in decimal, with the check digit. */
export function sfdiFromFingerprint(fingerprintHex: string): number {
  if (!/^[0-9a-fA-F]{9,}$/.test(fingerprintHex)) throw new Error(`a fingerprint must be at least 9 hex digits, found "${fingerprintHex}"`);
  const n = parseInt(fingerprintHex.slice(0, 9), 16);
  return n * 10 + sfdiCheckDigit(n);
}

export interface DeviceIdentity {
  readonly fingerprint: string;
  readonly lfdi: string;
  readonly sfdi: number;
  readonly subject: string;
  /** Expiry, as epoch milliseconds (for display and alarms; compare against the Clock). */
  readonly validToMs: number;
}

/** The identity of a device from its certificate (PEM; the first certificate when a chain is given). */
export function deviceIdentity(certPem: string | Buffer): DeviceIdentity {
  const cert = new X509Certificate(certPem);
  const fingerprint = certificateFingerprint(cert.raw);
  return {
    fingerprint,
    lfdi: lfdiFromFingerprint(fingerprint),
    sfdi: sfdiFromFingerprint(fingerprint),
    subject: cert.subject,
    validToMs: Date.parse(cert.validTo),
  };
}
