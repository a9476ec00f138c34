import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MGOS } from './helpers/cli.js';
import { until } from './helpers/control-site.js';
import { httpClient } from './helpers/http.js';
import { BROKER_HOST, BROKER_PORT, requireBroker, subscribe } from './helpers/mqtt-peer.js';
import { execFile } from 'node:child_process';

/**
 * The restart command on the real process: `mgos start --config site.yaml` receives it over MQTT
 * (mosquitto_pub), answers it, closes everything and starts again in the same process (the path it
 * takes after a store move), and the new system answers commands; SIGTERM then stops it with exit 0.
 */
const PASSWORD = 'restart-cli-password-1';

function pub(topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('mosquitto_pub', ['-h', BROKER_HOST, '-p', String(BROKER_PORT), '-V', 'mqttv5', '-q', '1', '-t', topic, '-m', payload], (err, _o, stderr) =>
      err ? reject(new Error(`mosquitto_pub: ${stderr}`)) : resolve(),
    ),
  );
}

test('mgos start restarts itself on a remote restart command and keeps answering commands', async (t) => {
  if (!(await requireBroker(t))) return;
  const prefix = `mgostest-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'site.yaml');
  writeFileSync(
    file,
    [
      'site: { id: rs, name: Restart site }',
      `storage: { path: ${dir}/mgos.db }`,
      'http: { host: 127.0.0.1, port: 0 }',
      'sim: { enabled: true, customers: 2, port: 0 }',
      'meters:',
      '  - { id: 100, name: main, type: 3phase, role: main }',
      `uplink: { url: "mqtt://${BROKER_HOST}:${BROKER_PORT}", topicPrefix: ${prefix}, clientId: ${prefix}-rs, health: { enabled: false }, commands: { enabled: true } }`,
      '',
    ].join('\n'),
  );
  const res = await subscribe(`${prefix}/rs/res/#`, { withoutMid: true });
  const child = spawn(process.execPath, [MGOS, 'start', '--config', file], {
    env: { ...process.env, MGOS_ADMIN_PASSWORD: PASSWORD, MGOS_LOG_LEVEL: process.env.MGOS_LOG_LEVEL ?? 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const urls = (): string[] => [...out.matchAll(/Microgrid OS is running(?: again)?: (http:\/\/\S+)/g)].map((m) => m[1] ?? '');
    await until('the site is running', () => urls().length === 1, 30_000);
    const http = httpClient(() => urls().at(-1) ?? '');
    const token = await http.login('admin', PASSWORD);
    const connected = async () => (await http.call('GET', '/api/uplink', { token })).json.state === 'connected';
    await until('the uplink is connected', connected);
    const answers = (rid: string) =>
      res.messages.filter((m) => m.topic.endsWith(`/res/${rid}`)).map((m) => JSON.parse(m.payload) as { phase: string; status: string });
    const send = async (rid: string, command: Record<string, unknown>) =>
      pub(`${prefix}/rs/cmd/${rid}`, JSON.stringify({ issuedAt: Date.now(), auth: { token }, command }));

    await send('restart-1', { type: 'restart', reason: 'test restart' });
    await until('the restart is answered', () => answers('restart-1').length === 2);
    assert.deepEqual(
      answers('restart-1').map((a) => [a.phase, a.status]),
      [
        ['ack', 'accepted'],
        ['result', 'done'],
      ],
    );
    await until('the site runs again', () => urls().length === 2, 30_000).catch((e: unknown) => assert.fail(`${(e as Error).message}; output:\n${out}`));
    assert.match(out, /restarting: remote request restart-1 by admin: test restart/);
    assert.equal(child.exitCode, null, 'the same process');
    // The session lives in the database: the same token works on the new system.
    await until('the uplink is connected again', connected);
    await send('ping-2', { type: 'ping' });
    await until('the new system answers', () => answers('ping-2').length === 2);
    assert.equal(answers('ping-2')[1]?.status, 'done');
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    await res.stop();
  }
});
