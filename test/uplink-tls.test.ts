import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { decodeJson, resolvePack } from '../src/uplink/senml.js';
import { uplinkConfigSchema } from '../src/uplink/uplink-config.js';
import { Uplink } from '../src/uplink/uplink.js';
import { freePort } from './helpers/mqtt-peer.js';
import { requireTool } from './helpers/pty.js';

/**
 * TLS with a client certificate and with username/password: a Mosquitto of our own (the system's broker
 * has no TLS listener) on a free port, with a private CA made by openssl; mosquitto_sub as the receiver.
 */
const T0 = Date.UTC(2027, 6, 31, 20, 30, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function makePki(dir: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '36500', '-subj', '/CN=mgos test CA');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'kasese'],
  ] as const) {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(path.join(dir, `${name}.ext`), name === 'server' ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '36500',
      '-extfile',
      `${name}.ext`,
    );
    // Test keys only: Mosquitto started as root reads them as its own user.
    chmodSync(path.join(dir, `${name}.key`), 0o644);
  }
  chmodSync(dir, 0o755);
}

for (const mode of ['client certificate', 'username and password'] as const) {
  test(`TLS with a ${mode}: messages arrive; without it the broker refuses`, async (t) => {
    if (!requireTool('mosquitto', t) || !requireTool('mosquitto_sub', t) || !requireTool('openssl', t)) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'mgos-uplink-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    makePki(dir);
    const port = await freePort();
    const cert = mode === 'client certificate';
    if (!cert) execFileSync('mosquitto_passwd', ['-b', '-c', path.join(dir, 'passwd'), 'kasese', 'site secret 1'], { stdio: 'ignore' });
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        `cafile ${dir}/ca.crt`,
        `certfile ${dir}/server.crt`,
        `keyfile ${dir}/server.key`,
        cert ? 'require_certificate true' : 'require_certificate false',
        cert ? 'use_identity_as_username true' : `password_file ${dir}/passwd`,
        'allow_anonymous false',
        '',
      ].join('\n'),
    );
    const broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    t.after(() => {
      broker.kill('SIGKILL');
    });
    await sleep(500);
    const subArgs = [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-V',
      'mqttv5',
      '-q',
      '1',
      '-t',
      'tls/+/meter2',
      '-C',
      '1',
      '-W',
      '15',
      '--cafile',
      `${dir}/ca.crt`,
      '-F',
      '%P\t%t\t%p',
      ...(cert ? ['--cert', `${dir}/client.crt`, '--key', `${dir}/client.key`] : ['-u', 'kasese', '-P', 'site secret 1']),
    ];
    const sub = spawn('mosquitto_sub', subArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const subDone = new Promise((r) => sub.once('exit', r));
    await sleep(500);
    const base = { url: `mqtts://127.0.0.1:${port}`, topicPrefix: 'tls', clientId: 'kasese-tls', reconnectMinMs: 200, queue: { flushDelayMs: 50 } };
    const creds = cert
      ? { tls: { ca: `${dir}/ca.crt`, cert: `${dir}/client.crt`, key: `${dir}/client.key` } }
      : { tls: { ca: `${dir}/ca.crt` }, username: 'kasese', password: 'site secret 1' };
    // Without credentials: refused, nothing acknowledged, the message stays queued.
    const refused = new Uplink({
      config: uplinkConfigSchema.parse({ ...base, tls: { ca: `${dir}/ca.crt` } }),
      siteId: 'kasese',
      queuePath: path.join(dir, 'refused.db'),
    });
    refused.start();
    refused.enqueue({ component: 'meter2', ts: T0, channels: ['ActivePower'], values: [1] });
    refused.flush();
    await sleep(1000);
    assert.equal(refused.status().connected, false);
    assert.equal(refused.status().queued, 1);
    await refused.stop();
    const up = new Uplink({ config: uplinkConfigSchema.parse({ ...base, ...creds }), siteId: 'kasese', queuePath: path.join(dir, 'q.db') });
    up.start();
    up.enqueue({ component: 'meter2', ts: T0, channels: ['ActivePower', 'Voltage_L1'], values: [1500, 230.2] });
    up.flush();
    await subDone;
    await up.stop();
    const [mid, topic, payload] = out.trim().split('\t');
    assert.equal(mid, 'mid:1');
    assert.equal(topic, 'tls/kasese/meter2');
    assert.deepEqual(
      resolvePack(decodeJson(payload ?? ''), 0).map((r) => [r.n, r.v]),
      [
        ['kasese/meter2/1-0:16.7.0', 1500],
        ['kasese/meter2/1-0:32.7.0', 230.2],
      ],
    );
  });
}
