import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningSystem } from '../src/system.js';
import { browserSkipReason, launchChromium, until } from './helpers/browser.js';
import { BROKER_PORT, requireBroker } from './helpers/mqtt-peer.js';
import { startUplinkSite } from './helpers/uplink-site.js';
import { PHONE, shoot, signIn, type UiSession } from './helpers/ui-session.js';

/**
 * The overview's Uplink card in Chromium: a site whose uplink reaches the real Mosquitto shows it
 * connected with its last contact; a site whose broker does not answer shows it disconnected with
 * the telemetry it keeps queued. Both on a fixed day (never today's date).
 */
const T0 = Date.UTC(2027, 0, 2, 16, 30, 0);
const PASSWORD = 'uplink card password 1';

function siteWithUplink(dir: string, url: string, topicPrefix: string): Promise<RunningSystem> {
  return startUplinkSite({ siteId: 'usite', dir, url, topicPrefix, clientId: `${topicPrefix}-c`, password: PASSWORD, startAt: T0 });
}

describe('the overview Uplink card in Chromium', { skip: browserSkipReason(), timeout: 240_000 }, () => {
  let browser: Browser;
  const dirs: string[] = [];
  const systems: RunningSystem[] = [];
  const sessions: UiSession[] = [];

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    for (const x of sessions) await x.context.close().catch(() => undefined);
    await (browser as Browser | undefined)?.close();
    for (const s of systems) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function open(url: string, viewport?: { width: number; height: number }): Promise<UiSession> {
    const dir = mkdtempSync(path.join(tmpdir(), 'mgos-uplink-ui-'));
    dirs.push(dir);
    const sys = await siteWithUplink(dir, url, `mgostest-${randomBytes(4).toString('hex')}`);
    systems.push(sys);
    const x = await signIn(browser, sys.url, 'admin', PASSWORD, viewport);
    sessions.push(x);
    return x;
  }

  test('connected to the real Mosquitto: state, queue and last contact', async (t) => {
    if (!(await requireBroker(t))) return;
    const { page, problems } = await open(`mqtt://127.0.0.1:${BROKER_PORT}`);
    const card = page.getByTestId('uplink');
    // The card refreshes with the bus counters (every 15 s): the first look may be before the first contact.
    await card.getByTestId('uplink-state').filter({ hasText: 'Connected' }).waitFor({ timeout: 40_000 });
    const lastContact = card.locator('dt', { hasText: 'Last broker contact' }).locator('xpath=following-sibling::dd[1]');
    await until('a last broker contact', async () => ((await lastContact.textContent()) !== 'never' ? true : undefined), 40_000);
    assert.match((await card.getByTestId('uplink-queued').textContent()) ?? '', /^\d+$/);
    await shoot(page, 'uplink-connected');
    assert.deepEqual(problems, []);
  });

  test('a broker that does not answer: disconnected, and the telemetry waits in the queue (phone width)', async () => {
    // Port 1 on this machine refuses connections: the uplink keeps trying and queues.
    const { page, problems } = await open('mqtt://127.0.0.1:1', PHONE);
    const card = page.getByTestId('uplink');
    await card.getByTestId('uplink-state').filter({ hasText: 'Disconnected' }).waitFor({ timeout: 40_000 });
    const queued = card.getByTestId('uplink-queued');
    await until('telemetry queued', async () => (Number(await queued.textContent()) > 0 ? true : undefined), 40_000);
    assert.equal(await card.locator('dt', { hasText: 'Last broker contact' }).locator('xpath=following-sibling::dd[1]').textContent(), 'never');
    await shoot(page, 'uplink-disconnected');
    assert.deepEqual(
      problems.filter((p) => !/\/api\//.test(p)),
      [],
    );
  });
});
