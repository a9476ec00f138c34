import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { deviceIdentity, lfdiFromFingerprint, sfdiCheckDigit, sfdiFromFingerprint } from '../src/csip/lfdi.js';
import { makePki } from './helpers/csip-pki.js';

test('LFDI and SFDI from the worked example (docs/csip.md#device-identity)', () => {
  const fp = '3E4F45AB31EDFE5B67E343E5E4562E31984E23E5349E2AD745672ED145EE213A';
  assert.equal(lfdiFromFingerprint(fp), '3E4F45AB31EDFE5B67E343E5E4562E31984E23E5');
  assert.equal(sfdiFromFingerprint(fp), 167261211391);
  assert.equal(sfdiFromFingerprint(fp.toLowerCase()), 167261211391);
  assert.equal(sfdiCheckDigit(16726121139), 1, '1+6+7+2+6+1+2+1+1+3+9 = 39, so 1 makes 40');
  assert.equal(sfdiCheckDigit(19), 0);
  assert.throws(() => lfdiFromFingerprint('3E4F'), /at least 40 hex digits, found "3E4F"/);
});

test('identity of a certificate: SHA-256 over its DER encoding', () => {
  const pki = makePki();
  const id = deviceIdentity(pki.deviceCert);
  const der = new X509Certificate(pki.deviceCert).raw;
  const fp = createHash('sha256').update(der).digest('hex').toUpperCase();
  assert.equal(id.fingerprint, fp);
  assert.equal(id.lfdi, fp.slice(0, 40));
  const n = parseInt(fp.slice(0, 9), 16);
  assert.equal(id.sfdi, n * 10 + sfdiCheckDigit(n));
  assert.ok(String(id.sfdi).length <= 12);
  assert.match(id.subject, /CN=device/);
  assert.deepEqual(deviceIdentity(pki.deviceCert + pki.caCert).lfdi, id.lfdi, 'a chain: the first certificate');
});
