import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The certificates of a conformance run, made with openssl (P-256, as IEEE 2030.5 asks): the utility's
 * CA, a server certificate for 127.0.0.1 and localhost, and the device certificate of the client under
 * test, all signed by that CA. Validity is real time (OpenSSL checks it against the machine's clock).
 */
export interface Pki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly deviceCert: string;
  readonly deviceKey: string;
}

export function makeConformancePki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-conformance-pki-'));
  const f = (n: string): string => path.join(dir, n);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
      '-subj',
      '/CN=conformance-ca',
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    const leaf = (name: string, ext: string): void => {
      ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
      writeFileSync(f(`${name}.ext`), ext);
      ssl(
        'x509',
        '-req',
        '-in',
        f(`${name}.csr`),
        '-CA',
        f('ca.crt'),
        '-CAkey',
        f('ca.key'),
        '-CAcreateserial',
        '-out',
        f(`${name}.crt`),
        '-days',
        '3650',
        '-extfile',
        f(`${name}.ext`),
      );
    };
    // Both ends are client and server: the utility sends notifications to the device's endpoint (Pub-Sub).
    leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n');
    leaf('device', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=clientAuth,serverAuth\nbasicConstraints=CA:FALSE\n');
    const r = (n: string): string => readFileSync(f(n), 'utf8');
    return { caCert: r('ca.crt'), serverCert: r('server.crt'), serverKey: r('server.key'), deviceCert: r('device.crt'), deviceKey: r('device.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
