import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { startSystem, type RunningSystem } from '../src/system.js';
import { browserSkipReason, launchChromium, outputPath, until } from './helpers/browser.js';
import { httpClient } from './helpers/http.js';
import { createUser, hasRoute, PHONE, shoot, signIn, type UiSession } from './helpers/ui-session.js';

/**
 * Commissioning and operations pages against the real system: a simulated bus with 8 customer meters
 * of which only 2-6 are configured, so meters 7-9 are installed but not yet added. Polls every second.
 */
const PASSWORD = 'commission-admin-1';
const USERS = {
  installer: { username: 'ivan_installer', password: 'installer-pass-1', role: 'installer' },
  operator: { username: 'olga_operator', password: 'operator-pass-1', role: 'operator' },
  viewer: { username: 'vera_viewer', password: 'viewer-pass-12', role: 'viewer' },
} as const;
const CONFIGURED = [2, 3, 4, 5, 6];
const NAMES: Record<number, string> = { 2: 'house_02', 3: 'house_03', 4: 'house_04', 5: 'shop_05', 6: 'house_06' };

describe('commissioning and operations pages in Chromium', { skip: browserSkipReason(), timeout: 300_000 }, () => {
  let dataDir: string;
  let system: RunningSystem;
  let browser: Browser;
  let adminToken: string;
  let installer: UiSession;
  /** Every file the pages fetched other than API calls: the bundle's assets and index.html only. */
  const files = new Set<string>();
  const sessions: UiSession[] = [];
  const http = httpClient(() => system.url);

  async function session(user: { username: string; password: string } | 'admin', viewport?: { width: number; height: number }): Promise<UiSession> {
    const [name, pass] = user === 'admin' ? ['admin', PASSWORD] : [user.username, user.password];
    const s = await signIn(browser, system.url, name, pass, viewport);
    s.page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (!path.startsWith('/api/')) files.add(path);
    });
    sessions.push(s);
    return s;
  }

  /** Skips a test whose server routes have not landed yet, naming them. */
  async function needRoutes(t: TestContext, ...paths: string[]): Promise<boolean> {
    const missing: string[] = [];
    for (const p of paths) if (!(await hasRoute(system.url, adminToken, p))) missing.push(p);
    if (missing.length) t.skip(`server does not serve ${missing.join(', ')} yet`);
    return missing.length === 0;
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mgos-browser-comm-'));
    system = await startSystem({
      config: {
        site: { id: 'commissioning_test', name: 'Commissioning test grid', timezone: 'Africa/Kampala' },
        poll: { intervalMs: 1000 },
        storage: { path: join(dataDir, 'mgos.db'), flushIntervalMs: 1000 },
        http: { host: '127.0.0.1', port: 0 },
        // Eight simulated customers (addresses 2-9); with no buses listed the system attaches the simulator's bus "sim".
        sim: { enabled: true, seed: 7, customers: 8, lineSpeedBaud: 0, port: 0 },
        meters: [{ id: 100, name: 'main', type: '3phase', role: 'main' }, ...CONFIGURED.map((id) => ({ id, name: NAMES[id], type: '1phase' }))],
      },
      adminPassword: PASSWORD,
      logger: pino({ level: 'silent' }),
    });
    adminToken = await http.login('admin', PASSWORD);
    for (const u of Object.values(USERS)) await createUser(system.url, adminToken, u.username, u.password, u.role);
    browser = await launchChromium();
  });

  after(async () => {
    // Unset when before() failed.
    await (browser as Browser | undefined)?.close();
    await (system as RunningSystem | undefined)?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('an installer adds meter 7 from the UI and sees it live on its page', async () => {
    installer = await session(USERS.installer);
    const { page } = installer;
    assert.equal(await page.getByTestId('nav-discover').isVisible(), true, 'installers see Discover');
    await page.getByTestId('nav-meters').click();
    await page.getByTestId('add-meter-link').click();
    await page.getByTestId('add-meter-form').waitFor();
    await page.locator('[data-testid=meter-bus] option[value=sim]').waitFor({ state: 'attached' });

    await page.getByTestId('suggest-address').click();
    const suggested = await until('a suggested address', async () => (await page.getByLabel('Modbus address (meter id)').inputValue()) || undefined);
    assert.ok(Number(suggested) >= 2 && Number(suggested) <= 99 && !CONFIGURED.includes(Number(suggested)), `a free single-phase address, got ${suggested}`);

    await page.getByLabel('Modbus address (meter id)').fill('7');
    await page.getByLabel('Name', { exact: true }).fill('house_07');
    await page.getByLabel('Type').selectOption('1phase');
    await page.getByLabel('Bus', { exact: true }).selectOption('sim');
    await page.getByTestId('add-submit').click();
    // The server answers only after the meter has answered: the wait is explained meanwhile.
    assert.match(await page.getByTestId('add-verifying').innerText(), /Verifying: waiting for meter 7 to answer/);
    await page.screenshot({ path: outputPath('add-meter-verifying-desktop.png') });
    const success = page.getByTestId('add-success');
    await success.waitFor();
    assert.match(await success.innerText(), /Meter 7 \(house_07\) answers/);
    await shoot(page, 'add-meter');

    await page.getByTestId('added-meter-link').click();
    await page.locator('[data-testid=meter-page][data-key=meter7]').waitFor();
    await page.locator('[data-testid=live-values] [data-testid=quality][data-quality=GOOD]').waitFor();
    const volts = await until('a voltage reading', async () => {
      const v = await page.locator('[data-testid=live-phases] tbody tr td').first().innerText();
      return /^\d{3}\.\d$/.test(v) ? v : undefined;
    });
    assert.ok(Number(volts) > 180 && Number(volts) < 260, `plausible voltage ${volts}`);
    await page.getByTestId('meter-manage').waitFor();
    await shoot(page, 'meter-page');
  });

  test('an address nobody answers on is refused with the reason, and nothing changes', async () => {
    const { page } = installer;
    await page.goto(`${system.url}/#/meters/new`);
    await page.locator('[data-testid=meter-bus] option[value=sim]').waitFor({ state: 'attached' });
    await page.getByLabel('Modbus address (meter id)').fill('12');
    await page.getByLabel('Name', { exact: true }).fill('house_12');
    await page.getByTestId('add-submit').click();
    const error = page.getByTestId('add-error');
    await error.waitFor();
    assert.match(await error.innerText(), /did not answer within 2 poll cycles.*rolled back/);
    assert.match(await page.getByTestId('add-failed').innerText(), /nothing was changed/);
    await shoot(page, 'add-meter-refused');
    assert.equal((await http.call('GET', '/api/meters/meter12', { token: adminToken })).status, 404);
    // A taken name is refused before any polling, under the field it concerns.
    await page.getByLabel('Modbus address (meter id)').fill('13');
    await page.getByLabel('Name', { exact: true }).fill('house_07');
    await page.getByTestId('add-submit').click();
    await page.getByTestId('add-error').waitFor();
    assert.match(await page.getByTestId('add-error').innerText(), /house_07/);
  });

  test('an installer scans the bus, sees the progress, and adds a proposed meter from the results', async () => {
    const { page } = installer;
    await page.getByTestId('nav-discover').click();
    await page.locator('[data-testid=scan-bus] option[value=sim]').waitFor({ state: 'attached' });
    assert.equal(await page.getByLabel('From address').inputValue(), '1');
    assert.equal(await page.getByLabel('To address').inputValue(), '247');

    // A full scan can be stopped.
    await page.getByTestId('scan-start').click();
    await page.getByTestId('scan-progress-card').waitFor();
    await page.getByTestId('scan-cancel').click();
    await page.locator('[data-testid=scan-state][data-state=cancelled]').waitFor();

    await page.getByLabel('From address').fill('1');
    await page.getByLabel('To address').fill('12');
    await page.getByTestId('scan-start').click();
    await until('a scan of the new range', async () => ((await page.getByTestId('scan-count').innerText()).includes('(1–12') ? true : undefined));
    assert.match(await page.getByTestId('scan-count').innerText(), /^Scanned \d+ of 12 addresses/);
    await page.locator('[data-testid=scan-state][data-state=done]').waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('scan-count').innerText(), /^Scanned 12 of 12/);

    const status = async (address: number): Promise<string | null> =>
      page.locator(`[data-testid=found-row][data-address="${address}"]`).getAttribute('data-status');
    assert.equal(await status(7), 'known', 'meter 7 was added in the first test');
    assert.equal(await status(8), 'new');
    assert.equal(await status(9), 'new');
    assert.equal(await page.locator('[data-testid=found-row][data-address="12"]').count(), 0);
    for (const text of await page.getByTestId('found-status').allInnerTexts())
      assert.match(text, /(Configured|New|DUPLICATE|UNIDENTIFIED|MISSING)$/, 'the status is a word, not a colour');
    await shoot(page, 'discover');

    await page.locator('[data-testid=proposal-row][data-address="8"] [data-testid=proposal-add]').click();
    await page.getByTestId('add-meter-form').waitFor();
    assert.equal(await page.getByLabel('Modbus address (meter id)').inputValue(), '8');
    assert.match(await page.getByLabel('Name', { exact: true }).inputValue(), /^[a-z0-9_]+$/);
    assert.equal(await page.getByLabel('Bus', { exact: true }).inputValue(), 'sim');
  });

  test('an installer disables and re-enables a meter; a viewer sees no installer actions', async () => {
    const { page } = installer;
    await page.goto(`${system.url}/#/meters/meter7`);
    await page.getByTestId('meter-disable').click();
    await page.getByTestId('meter-enable').waitFor();
    await page.locator('[data-testid=live-values] [data-quality=OFF]').waitFor();
    await page.getByTestId('meter-enable').click();
    await page.getByTestId('meter-disable').waitFor({ timeout: 20_000 });

    const viewer = await session(USERS.viewer);
    assert.equal(await viewer.page.getByTestId('nav-discover').isVisible(), false);
    await viewer.page.goto(`${system.url}/#/meters`);
    await viewer.page.getByTestId('meter-row').first().waitFor();
    assert.equal(await viewer.page.getByTestId('add-meter-link').count(), 0);
    await viewer.page.goto(`${system.url}/#/meters/meter7`);
    await viewer.page.getByTestId('live-values').waitFor();
    assert.equal(await viewer.page.getByTestId('meter-manage').count(), 0);
    await viewer.page.goto(`${system.url}/#/meters/new`);
    await viewer.page.getByTestId('needs-role').waitFor();
  });

  test('the configuration history lists every change; an admin is offered a restore', async () => {
    const admin = await session('admin');
    const { page } = admin;
    await page.goto(`${system.url}/#/meters`);
    await page.getByTestId('config-history').locator('summary').click();
    await page.getByTestId('config-version').nth(3).waitFor();
    const reasons = (await page.getByTestId('config-version').allInnerTexts()).join('\n');
    assert.match(reasons, /added house_07 \(address 7\)/);
    assert.match(reasons, /disabled house_07/);
    assert.match(reasons, /ivan_installer/);
    await page.getByTestId('restore-version').last().click();
    await page.getByTestId('confirm-dialog').waitFor();
    await shoot(page, 'restore-confirm');
    await page.getByTestId('confirm-no').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    await shoot(page, 'meters-config-history');
  });

  test('an operator acknowledges the alarm of a silenced meter', async (t) => {
    if (!(await needRoutes(t, '/api/alarms'))) return;
    const silenced = await http.call('POST', '/api/sim/meters/3/fault', { token: adminToken, body: { fault: 'silent' } });
    assert.equal(silenced.status, 200, silenced.text);
    try {
      const { page } = await session(USERS.operator);
      await page.getByTestId('nav-alarms').click();
      const item = page.locator('[data-testid=alarm-item][data-subject=meter3][data-rule=meter_offline][data-state=open]');
      await item.waitFor({ timeout: 45_000 });
      assert.match(await item.getByTestId('alarm-state').innerText(), /not acknowledged/);
      assert.match(await item.getByTestId('severity').innerText(), /[A-Z]+$/);
      await page.locator('[data-testid=alarm-badge]:not([hidden])').waitFor();
      await shoot(page, 'alarms');

      await item.getByTestId('alarm-link').click();
      await page.getByTestId('alarm-page').waitFor();
      await page.getByLabel(/Note/).fill('Going to check the breaker at house 3');
      await page.getByTestId('ack-submit').click();
      assert.match(await page.getByTestId('alarm-acked').innerText(), /Acknowledged by olga_operator/);
      assert.match(await page.getByTestId('alarm-events').innerText(), /olga_operator/);
      await shoot(page, 'alarm');

      await page.getByTestId('back-to-alarms').click();
      assert.match(await item.getByTestId('alarm-state').innerText(), /acknowledged by olga_operator/);
      // The meter's page and the overview show it too.
      await page.goto(`${system.url}/#/meters/meter3`);
      await page.locator('[data-testid=meter-alarms] [data-testid=alarm-item][data-rule=meter_offline]').waitFor();
      await page.goto(`${system.url}/#/overview`);
      await until('the overview alarm count', async () => (Number(await page.getByTestId('alarms-open').innerText()) >= 1 ? true : undefined));
    } finally {
      await http.call('POST', '/api/sim/meters/3/fault', { token: adminToken, body: { fault: 'none' } });
    }
  });

  test('inventory: create a record, move it along, see refusals and import errors in full', async (t) => {
    if (!(await needRoutes(t, '/api/inventory'))) return;
    const { page } = installer;
    await page.getByTestId('nav-inventory').click();
    await page.getByTestId('inventory').waitFor();
    await page.getByTestId('inv-new').locator('summary').click();
    await page.getByLabel('Serial number').fill('200322016697');
    await page.getByLabel('Building / customer').fill('House 7');
    await page.getByTestId('inv-create').click();
    await page.getByTestId('inv-created').waitFor();
    const row = page.locator('[data-testid=inv-row][data-serial="200322016697"]');
    await row.waitFor();
    assert.match(await row.getByTestId('inv-status').innerText(), /Unassigned/);
    assert.match(await page.getByTestId('inv-chip-unassigned').innerText(), /Unassigned 1/);

    await row.getByTestId('inv-link').click();
    await page.getByTestId('inventory-record').waitFor();
    await page.getByTestId('inv-to-assigned').click();
    // Address 3 belongs to a configured meter: the server says so, and the page shows it.
    await page.getByLabel('Reason or note').fill('address for house 7');
    await page.getByLabel('Modbus address', { exact: true }).fill('3');
    await page.getByTestId('inv-transition-submit').click();
    const refusal = page.getByTestId('inv-transition-error');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /3/);
    await page.getByTestId('inv-suggest').click();
    await until('a suggested address', async () => ((await page.getByLabel('Modbus address', { exact: true }).inputValue()) !== '3' ? true : undefined));
    await page.getByTestId('inv-transition-submit').click();
    await page.getByTestId('inv-transition-done').waitFor();
    assert.match(await page.getByTestId('inv-status').first().innerText(), /Assigned/);
    assert.match(await page.getByTestId('inv-history').innerText(), /Unassigned → Assigned by ivan_installer — address for house 7/);
    await shoot(page, 'inventory-record');

    await page.getByTestId('back-to-inventory').click();
    await page.getByTestId('inv-import-box').locator('summary').click();
    const csv = join(dataDir, 'bad-inventory.csv');
    await writeFile(
      csv,
      'Meter Serial Number,Meter Type,Site Name,Building/Customer,Assigned Modbus Address,Status,Date Assigned,Date Converted,Date Installed,Date Commissioned,Converted By,Installed By,Commissioned By,Notes\n12345,DDSU666,Commissioning test grid,House 20,,Unassigned,,,,,,,,\n200322016698,XYZ999,Commissioning test grid,House 21,,Shipped,,,,,,,,\n',
    );
    await page.getByLabel('CSV file').setInputFiles(csv);
    await page.getByTestId('inv-import').click();
    const errors = page.getByTestId('inv-import-errors');
    await errors.waitFor();
    assert.ok((await errors.locator('li').count()) >= 2, `every row problem listed: ${await errors.innerText()}`);
    assert.match(await errors.innerText(), /row 2/);
    assert.match(await errors.innerText(), /row 3/);
    await shoot(page, 'inventory');
    assert.match((await page.getByTestId('inv-export').getAttribute('href')) ?? '', /^\/api\/inventory\.csv/);
  });

  test('the fleet table lists every meter with its completeness, and sorts', async (t) => {
    if (!(await needRoutes(t, '/api/fleet'))) return;
    const { page } = installer;
    await page.getByTestId('nav-fleet').click();
    await page.getByTestId('fleet-row').first().waitFor();
    const meters = (await http.call('GET', '/api/meters', { token: adminToken })).json.meters as unknown[];
    assert.equal(await page.getByTestId('fleet-row').count(), meters.length);
    for (const text of await page.getByTestId('completeness').allInnerTexts()) assert.match(text, /^(<0\.1|\d+(\.\d)?)%/);
    await page.getByTestId('fleet-sort-completeness').click();
    assert.equal(await page.locator('th:has([data-testid=fleet-sort-completeness])').getAttribute('aria-sort'), 'ascending');
    await shoot(page, 'fleet');
  });

  test('every new page fits a 375 px phone without sideways scrolling', async () => {
    const phone = await session('admin', PHONE);
    const { page } = phone;
    const alarms = await hasRoute(system.url, adminToken, '/api/alarms');
    const inventory = await hasRoute(system.url, adminToken, '/api/inventory');
    const fleet = await hasRoute(system.url, adminToken, '/api/fleet');
    const screens: Array<readonly [string, string, string]> = [
      ['add-meter', '#/meters/new?id=8&name=house_08&type=1phase&bus=sim', '[data-testid=meter-bus] option[value=sim]'],
      ['discover', '#/discover', '[data-testid=scan-form]'],
      ['meter-page', '#/meters/meter7', '[data-testid=meter-manage]'],
      ['meters-config-history', '#/meters', '[data-testid=config-history]'],
      ...(alarms ? ([['alarms', '#/alarms?state=all', '[data-testid=alarm-item]']] as const) : []),
      ...(inventory
        ? ([
            ['inventory', '#/inventory', '[data-testid=inv-row]'],
            ['inventory-record', '#/inventory/200322016697', '[data-testid=inv-history]'],
          ] as const)
        : []),
      ...(fleet ? ([['fleet', '#/fleet', '[data-testid=fleet-row]']] as const) : []),
    ];
    for (const [name, hash, ready] of screens) {
      await page.goto(`${system.url}/${hash}`);
      await page.locator(ready).first().waitFor({ state: 'attached' });
      if (name === 'meters-config-history') {
        await page.getByTestId('config-history').locator('summary').click();
        await page.getByTestId('config-version').first().waitFor();
      }
      await shoot(page, name);
    }
    if (alarms) {
      await page.goto(`${system.url}/#/alarms?state=all`);
      await page.getByTestId('alarm-link').first().click();
      await page.getByTestId('alarm-page').waitFor();
      await shoot(page, 'alarm');
    }
    await page.goto(`${system.url}/#/discover`);
    await page.locator('[data-testid=scan-bus] option[value=sim]').waitFor({ state: 'attached' });
    await page.getByLabel('From address').fill('6');
    await page.getByLabel('To address').fill('10');
    await page.getByTestId('scan-start').click();
    await page.locator('[data-testid=scan-state][data-state=done]').waitFor({ timeout: 60_000 });
    await shoot(page, 'discover-results');
  });

  test('no page had a script error or a missing file, and every page came from the one bundle', async () => {
    for (const s of sessions) assert.deepEqual(s.problems, []);
    const stray = [...files].filter((f) => f !== '/' && !/^\/assets\/[\w.]+-[\w]{8,}\.(?:min\.)?(?:js|css)$/.test(f));
    assert.deepEqual(stray, [], 'every script and stylesheet is a content-hashed asset of web/build.mjs');
    await Promise.all(sessions.map((s) => s.context.close()));
  });
});
