import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { resolvePack, decodeJson } from '../src/uplink/senml.js';
import { httpClient } from './helpers/http.js';
import { BROKER_PORT, requireBroker, subscribe } from './helpers/mqtt-peer.js';
import { startUplinkSite } from './helpers/uplink-site.js';

/** The site's health over the uplink (read by mosquitto_sub) and GET /api/uplink, on a running simulated site. */
const T0 = Date.UTC(2027, 6, 31, 20, 30, 0);
const PASSWORD = 'health test password 1';

test('a running site publishes its health (process, disk, buses, queue, last contact) and GET /api/uplink shows the uplink state', async (t) => {
  if (!(await requireBroker(t))) return;
  const topicPrefix = `mgostest-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-health-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sub = await subscribe(`${topicPrefix}/hsite/health`, { withoutMid: true });
  const sys = await startUplinkSite({
    siteId: 'hsite',
    dir,
    url: `mqtt://127.0.0.1:${BROKER_PORT}`,
    topicPrefix,
    clientId: `${topicPrefix}-h`,
    password: PASSWORD,
    startAt: T0,
    uplink: { health: { periodMs: 1000 } },
  });
  try {
    const http = httpClient(() => sys.url);
    assert.equal((await http.call('GET', '/api/uplink')).status, 401, 'viewers and up only');
    const token = await http.login('admin', PASSWORD);
    // Health after the first bus cycle, so bus figures are in it.
    await sub.waitFor(3, 15_000);
    const last = sub.messages.at(-1);
    const records = resolvePack(decodeJson(last?.payload ?? ''), 0);
    const get = (n: string) => records.find((r) => r.n === `hsite/health/${n}`);
    assert.ok((get('uptime')?.v ?? -1) >= 0);
    assert.equal(get('process/rss')?.u, 'B');
    assert.ok((get('process/rss')?.v ?? 0) > 10_000_000);
    assert.ok((get('disk/free')?.v ?? 0) > 0, 'disk free of the data directory');
    const zones = existsSync('/sys/class/thermal') && readdirSync('/sys/class/thermal').some((z) => z.startsWith('thermal_zone'));
    assert.equal(get('cpu/temperature') !== undefined, zones, 'CPU temperature where the kernel reports a thermal zone');
    assert.equal(get('bus/sim/connected')?.vb, true);
    assert.ok((get('bus/sim/requests')?.v ?? 0) > 0);
    assert.ok(get('uplink/queued') !== undefined && get('uplink/backlog') !== undefined);
    const contact = get('uplink/last_contact')?.v ?? 0;
    assert.ok(Math.abs(contact - Date.now() / 1000 - (T0 - Date.now()) / 1000) < 60, 'last contact on the system clock');
    assert.ok(
      records.every((r) => Math.abs(r.t - T0 / 1000) < 60),
      'times from the system clock',
    );

    const r = await http.call('GET', '/api/uplink', { token });
    assert.equal(r.status, 200);
    assert.equal(r.json.state, 'connected');
    assert.equal(typeof r.json.backlog, 'number');
    assert.equal(typeof r.json.queued, 'number');
    assert.ok(typeof r.json.lastContactAgeS === 'number' && r.json.lastContactAgeS < 30, JSON.stringify(r.json));
  } finally {
    await sys.close();
    await sub.stop();
  }
});
