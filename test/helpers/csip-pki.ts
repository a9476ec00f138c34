import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A test PKI made with openssl at test time (P-256, as IEEE 2030.5 asks): the utility's CA, a server
 * certificate for 127.0.0.1/localhost signed by it, a device certificate signed by it, and a rogue CA
 * with a server certificate of its own for the "wrong certificate" test. Validity is real time
 * (OpenSSL checks it against the machine's clock), one day back to ten years on.
 */
export interface Pki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly deviceCert: string;
  readonly deviceKey: string;
  /** A server certificate for the same names, signed by another CA. */
  readonly rogueServerCert: string;
  readonly rogueServerKey: string;
  readonly rogueCaCert: string;
  /** A server certificate signed by the utility CA for another name (not 127.0.0.1 or localhost). */
  readonly otherNameServerCert: string;
  readonly otherNameServerKey: string;
}

export function makePki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-csip-pki-'));
  const f = (n: string): string => path.join(dir, n);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    const ca = (name: string): void => {
      ssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        f(`${name}.key`),
        '-out',
        f(`${name}.crt`),
        '-subj',
        `/CN=${name}`,
        '-days',
        '3650',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      );
    };
    const leaf = (name: string, caName: string, ext: string): void => {
      ssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        f(`${name}.key`),
        '-out',
        f(`${name}.csr`),
        '-subj',
        `/CN=${name}`,
      );
      writeFileSync(f(`${name}.ext`), ext);
      ssl(
        'x509',
        '-req',
        '-in',
        f(`${name}.csr`),
        '-CA',
        f(`${caName}.crt`),
        '-CAkey',
        f(`${caName}.key`),
        '-CAcreateserial',
        '-out',
        f(`${name}.crt`),
        '-days',
        '3650',
        '-extfile',
        f(`${name}.ext`),
      );
    };
    ca('utility-ca');
    ca('rogue-ca');
    const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n';
    leaf('server', 'utility-ca', serverExt);
    leaf('rogue-server', 'rogue-ca', serverExt);
    leaf('other-name-server', 'utility-ca', 'subjectAltName=DNS:utility.example\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
    leaf('device', 'utility-ca', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    const r = (n: string): string => readFileSync(f(n), 'utf8');
    return {
      caCert: r('utility-ca.crt'),
      serverCert: r('server.crt'),
      serverKey: r('server.key'),
      deviceCert: r('device.crt'),
      deviceKey: r('device.key'),
      rogueServerCert: r('rogue-server.crt'),
      rogueServerKey: r('rogue-server.key'),
      rogueCaCert: r('rogue-ca.crt'),
      otherNameServerCert: r('other-name-server.crt'),
      otherNameServerKey: r('other-name-server.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
