import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { latestReading } from '../src/store/history.js';
import { httpClient } from './helpers/http.js';

let sys: RunningSystem;
let installer: string;
let admin: string;
let dir: string;
const { call, login } = httpClient(() => sys.url);

/** The simulator has 24 customers on the bus; only 2-10 (and the main meter) are configured. */
function siteConfig() {
  return {
    site: { id: 'hot', name: 'Hot add site' },
    poll: { intervalMs: 1000 },
    storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 60_000 },
    http: { port: 0 },
    sim: { enabled: true, customers: 24, port: 0 },
    meters: [
      { id: 100, name: 'main', type: '3phase', role: 'main' },
      ...Array.from({ length: 9 }, (_, i) => ({ id: i + 2, name: `house_${i + 2}`, type: '1phase' })),
    ],
  };
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mgos-hot-'));
  sys = await startSystem({ config: siteConfig(), adminPassword: 'admin password 123', logger: pino({ level: 'silent' }) });
  admin = await login('admin', 'admin password 123');
  assert.equal(
    (await call('POST', '/api/users', { token: admin, body: { username: 'fieldtech', password: 'installer password', role: 'installer' } })).status,
    200,
  );
  installer = await login('fieldtech', 'installer password');
});

after(async () => {
  await sys.close();
});

test('a new meter added through the API is logging within two cycles, with no restart', async () => {
  const before = sys.site.meterList().length;
  const startedAt = Date.now();
  const r = await call('POST', '/api/meters', { token: installer, body: { id: 21, name: 'house_21', type: '1phase', reason: 'installed today' } });
  assert.equal(r.status, 201, r.text);
  assert.ok(Date.now() - startedAt < 3 * 1000 + 1500, 'verified within two poll cycles');
  assert.equal((r.json.meter as { quality: string }).quality, 'GOOD');
  assert.equal(sys.site.meterList().length, before + 1);
  assert.ok(latestReading(sys.db, 'meter21'), 'its readings are stored in the database');
  const versions = (await call('GET', '/api/config/versions', { token: installer })).json.versions as { by: string; reason: string }[];
  assert.equal(versions[0]?.by, 'fieldtech');
  assert.equal(versions[0].reason, 'installed today');
});

test('adding a meter that does not answer is rolled back with the reason', async () => {
  const versionsBefore = ((await call('GET', '/api/config/versions', { token: installer })).json.versions as unknown[]).length;
  const r = await call('POST', '/api/meters', { token: installer, body: { id: 60, name: 'house_60', type: '1phase' } });
  assert.equal(r.status, 422, r.text);
  assert.match(r.json.error as string, /meter60 \(house_60\) did not answer within 2 poll cycles \(no reply \(timed out\)\); the change was rolled back/);
  assert.equal((await call('GET', '/api/meters/meter60', { token: installer })).status, 404);
  assert.equal(
    ((await call('GET', '/api/config/versions', { token: installer })).json.versions as unknown[]).length,
    versionsBefore,
    'no version was recorded',
  );
});

test('the add_meter.sh checks: address range, address 1, duplicates, model; viewers may not add', async () => {
  const refuse = async (body: Record<string, unknown>, status: number, pattern: RegExp): Promise<void> => {
    const r = await call('POST', '/api/meters', { token: installer, body });
    assert.equal(r.status, status, r.text);
    assert.match(r.json.error as string, pattern);
  };
  await refuse({ id: 1, name: 'fresh', type: '1phase' }, 409, /address 1 is the factory default of every new meter and is never assigned/);
  await refuse({ id: 120, name: 'single_high', type: '1phase' }, 409, /address 120 is outside the single-phase range; a single-phase meter uses 2-99/);
  await refuse({ id: 30, name: 'three_low', type: '3phase' }, 409, /outside the three-phase range; a three-phase meter uses 100-247/);
  await refuse({ id: 5, name: 'again', type: '1phase' }, 409, /meter 5 already exists \(house_5\)/);
  await refuse({ id: 22, name: 'house_2', type: '1phase' }, 409, /name "house_2" is already used/);
  await refuse({ id: 22, name: 'house_22', type: '2phase' }, 400, /no device profile for "2phase"; allowed: 1phase, 3phase/);
  await refuse({ id: 22, name: 'House 22', type: '1phase' }, 400, /^name: use lowercase letters/);
  const viewer = await call('POST', '/api/users', { token: admin, body: { username: 'looker', password: 'viewer password', role: 'viewer' } });
  assert.equal(viewer.status, 200);
  const v = await login('looker', 'viewer password');
  assert.equal((await call('POST', '/api/meters', { token: v, body: { id: 22, name: 'house_22', type: '1phase' } })).status, 403);
});

test('disable, re-enable, remove and restore a meter without restart', async () => {
  const disabled = await call('PATCH', '/api/meters/meter3', { token: installer, body: { enabled: false, reason: 'customer moved out' } });
  assert.equal(disabled.status, 200, disabled.text);
  assert.equal((disabled.json.meter as { enabled: boolean; quality: unknown }).quality, null);
  assert.ok(
    !sys.site
      .pollers()[0]
      ?.devices()
      .some((d) => d.key === 'meter3'),
    'a disabled meter is not polled',
  );
  const enabled = await call('PATCH', '/api/meters/meter3', { token: installer, body: { enabled: true } });
  assert.equal(enabled.status, 200, enabled.text);
  assert.equal((enabled.json.meter as { quality: string }).quality, 'GOOD');
  const removed = await call('DELETE', '/api/meters/meter4?reason=meter%20replaced', { token: installer });
  assert.equal(removed.status, 200, removed.text);
  assert.equal((await call('GET', '/api/meters/meter4', { token: installer })).status, 404);
  const versions = (await call('GET', '/api/config/versions', { token: installer })).json.versions as { version: number; reason: string }[];
  const beforeRemoval = versions.find((v) => v.reason === 'meter changed');
  assert.ok(beforeRemoval);
  assert.equal((await call('POST', `/api/config/versions/${beforeRemoval.version}/restore`, { token: installer })).status, 403, 'restoring needs an admin');
  const restored = await call('POST', `/api/config/versions/${beforeRemoval.version}/restore`, { token: admin });
  assert.equal(restored.status, 200, restored.text);
  assert.ok(sys.site.meter('meter4'), 'meter4 is back');
});

test('the changed meter list survives a restart; the site file only seeds it', async () => {
  await sys.close();
  sys = await startSystem({ config: siteConfig(), logger: pino({ level: 'silent' }) });
  assert.ok(sys.site.meter('meter21'), 'the meter added over the API is still configured');
  assert.ok(sys.site.meter('meter4'));
});
