import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { READINGS_CSV_HEADER } from '../src/store/csv-export.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { fromRoot } from '../src/util/paths.js';
import { browserSkipReason, horizontalOverflow, launchChromium, outputPath, until, watchPage } from './helpers/browser.js';

/**
 * The operator's path through the web UI against the real system (simulated site, 1 s polls):
 * sign in, live overview, meters table, a meter's charts and CSV, and the phone layout.
 */
const TZ = 'Africa/Kampala';
const PASSWORD = 'browser-test-pass-1';
const CUSTOMERS = 6;

/** A web module bundled on its own as a script that defines `globalName`, to evaluate in the page. */
async function browserModule(file: string, globalName: string): Promise<string> {
  const out = await build({ entryPoints: [fromRoot(file)], bundle: true, format: 'iife', globalName, write: false, target: 'es2022', logLevel: 'silent' });
  return out.outputFiles[0]?.text ?? '';
}

const siteToday = (): string => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());

describe('web UI in Chromium', { skip: browserSkipReason(), timeout: 180_000 }, () => {
  let dataDir: string;
  let system: RunningSystem;
  let browser: Browser;
  let desktop: BrowserContext;
  let page: Page;
  let watch: { problems: string[] };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mgos-browser-'));
    system = await startSystem({
      config: {
        site: { id: 'browser_test', name: 'Browser test mini-grid', timezone: TZ },
        poll: { intervalMs: 1000 },
        storage: { path: join(dataDir, 'mgos.db'), flushIntervalMs: 1000 },
        http: { host: '127.0.0.1', port: 0 },
        sim: { enabled: true, seed: 7, customers: CUSTOMERS, lineSpeedBaud: 0, port: 0 },
      },
      dataDir,
      httpPort: 0,
      adminPassword: PASSWORD,
      logger: pino({ level: 'silent' }),
    });
    browser = await launchChromium();
    desktop = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await desktop.newPage();
    page.setDefaultTimeout(20_000);
    watch = watchPage(page);
  });

  after(async () => {
    // Unset when before() failed.
    await (browser as Browser | undefined)?.close();
    await (system as RunningSystem | undefined)?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('asks to sign in, then shows the overview with live values', async () => {
    await page.goto(`${system.url}/#/overview`);
    await page.getByTestId('login-form').waitFor();
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    await page.screenshot({ path: outputPath('login-error-desktop.png') });

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('overview').waitFor();
    await page.locator('[data-testid=conn-state][data-state=live]').waitFor();

    // Two different stream updates after the first: the page is live, not a snapshot.
    const lastUpdate = page.getByTestId('last-update');
    const nextStamp = (prev: string | null): Promise<string> =>
      until('a stream update', async () => {
        const ts = await lastUpdate.getAttribute('data-ts');
        return ts && ts !== prev ? ts : undefined;
      });
    const seen = [await nextStamp(null)];
    for (let i = 0; i < 2; i++) seen.push(await nextStamp(seen[seen.length - 1] ?? null));
    assert.equal(new Set(seen).size, 3, `three distinct update times: ${seen.join(', ')}`);
    assert.match(await page.getByTestId('last-update').innerText(), /^Last update \d\d:\d\d:\d\d$/);

    await until('a grid power reading', async () => (/^\d+\.\d\d$/.test(await page.getByTestId('grid-power').innerText()) ? true : undefined));
    assert.match(await page.getByTestId('grid-direction').innerText(), /^(Importing|Exporting)$/);
    assert.match(await page.getByTestId('phase-voltage-L1').innerText(), /^\d{3}\.\d V$/);
    assert.match(await page.getByTestId('frequency').innerText(), /^\d\d\.\d\d$/);
    await page.locator('[data-testid=buses] [data-testid^=bus-]').first().waitFor();
    assert.equal(await page.locator('[data-testid=count-total]').innerText(), `(${CUSTOMERS + 1})`);
    await page.screenshot({ path: outputPath('overview-desktop.png'), fullPage: true });
  });

  test('lists the meters with live values and quality badges', async () => {
    await page.getByTestId('nav-meters').click();
    await page.waitForURL(/#\/meters$/);
    const rows = page.getByTestId('meter-row');
    await rows.nth(CUSTOMERS).waitFor();
    assert.equal(await rows.count(), CUSTOMERS + 1);
    await page.locator('[data-testid=meter-row] [data-quality=GOOD]').first().waitFor();
    for (const text of await page.locator('[data-testid=meter-row] [data-testid=quality]').allInnerTexts()) {
      assert.match(text.trim(), /(GOOD|STALE|ERROR|DISABLED|NO DATA)$/, 'a badge says its state in words, not colour alone');
    }
    await page.screenshot({ path: outputPath('meters-desktop.png'), fullPage: true });
  });

  test('opens a meter with its history chart and downloads the day as CSV', async () => {
    const history = page.waitForResponse((r) => r.url().includes('/history?') && r.url().includes('channel=ActivePower'));
    await page.getByTestId('meter-link').first().click();
    await page.waitForURL(/#\/meters\/meter\d+/);
    const body = (await (await history).json()) as { points: unknown[] };
    assert.ok(body.points.length > 0, 'the recorder has stored readings for today');
    await page.locator('[data-testid=chart-power] canvas').first().waitFor();
    await page.locator('[data-testid=chart-power-note]').waitFor({ state: 'hidden' });
    await page.locator('[data-testid=chart-voltage] canvas').first().waitFor();
    await page.locator('[data-testid=chart-intervals] canvas').first().waitFor();
    await page.locator('[data-testid=chart-daily] canvas').first().waitFor();
    assert.equal(await page.getByTestId('day-picker').inputValue(), siteToday());
    assert.match(await page.getByTestId('live-power').innerText(), /^-?\d+\.\d\d kW$/);
    await page.screenshot({ path: outputPath('meter-desktop.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-link').click()]);
    assert.match(download.suggestedFilename(), new RegExp(`^meter_\\d{3}_${siteToday()}\\.csv$`));
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines[0], READINGS_CSV_HEADER);
    assert.ok(lines[0].startsWith('timestamp,meter_id,V_L1_V,'));
    assert.ok(lines.length >= 2, `the CSV has readings rows (got ${lines.length - 1})`);
    assert.equal(lines[1]?.split(',').length, lines[0].split(',').length);
  });

  test('fits a 375 px phone screen without sideways scrolling', async () => {
    const phone = await browser.newContext({
      viewport: { width: 375, height: 740 },
      isMobile: true,
      hasTouch: true,
      storageState: await desktop.storageState(),
    });
    try {
      const p = await phone.newPage();
      p.setDefaultTimeout(20_000);
      const phoneWatch = watchPage(p);
      const key = /#\/meters\/(meter\d+)/.exec(page.url())?.[1];
      assert.ok(key);
      const screens: Array<[string, string, string]> = [
        ['overview', '#/overview', '[data-testid=buses] [data-testid^=bus-]'],
        ['meters', '#/meters', '[data-testid=meter-row] [data-quality=GOOD]'],
        ['meter', `#/meters/${key}`, '[data-testid=chart-power] canvas'],
      ];
      for (const [name, hash, ready] of screens) {
        await p.goto(`${system.url}/${hash}`);
        await p.locator(ready).first().waitFor();
        await p.waitForTimeout(300);
        await p.screenshot({ path: outputPath(`${name}-phone.png`) });
        assert.equal(await horizontalOverflow(p), 0, `${name}: no horizontal page scroll at 375 px`);
      }
      await p.screenshot({ path: outputPath('meter-phone-full.png'), fullPage: true });
      assert.deepEqual(phoneWatch.problems, []);
    } finally {
      await phone.close();
    }
    assert.deepEqual(watch.problems, []);
  });

  test('loads in at most 5 requests besides the API, with hashed assets cached for good', async () => {
    // A new context has an empty cache: this is a phone's first visit, signed in already.
    const fresh = await browser.newContext({ viewport: { width: 375, height: 760 } });
    try {
      const login = await fresh.request.post(`${system.url}/api/login`, { data: { username: 'admin', password: PASSWORD } });
      assert.equal(login.status(), 200);
      const p = await fresh.newPage();
      const freshWatch = watchPage(p);
      const files: Array<{ path: string; cacheControl: string }> = [];
      p.on('response', (r) => {
        const path = new URL(r.url()).pathname;
        if (!path.startsWith('/api/') && !r.url().startsWith('data:')) files.push({ path, cacheControl: r.headers()['cache-control'] ?? '' });
      });
      await p.goto(`${system.url}/#/overview`);
      await until('a grid power reading', async () => (/^\d+\.\d\d$/.test(await p.getByTestId('grid-power').innerText()) ? true : undefined));
      await p.getByTestId('nav-meters').click();
      await p.getByTestId('meters-table').waitFor();
      assert.ok(files.length <= 5, `files fetched: ${files.map((f) => f.path).join(', ')}`);
      const [index, ...assets] = files;
      assert.equal(index?.path, '/');
      assert.equal(index.cacheControl, 'no-cache', 'index.html is always revalidated: it names the current assets');
      assert.ok(assets.length >= 2, 'a stylesheet and the bundle');
      for (const a of assets) {
        assert.match(a.path, /^\/assets\/[\w.]+-[\w]{8,}\.(?:min\.)?(?:js|css)$/, 'content-hashed name');
        assert.equal(a.cacheControl, 'public, max-age=31536000, immutable', a.path);
      }
      assert.deepEqual(freshWatch.problems, []);
    } finally {
      await fresh.close();
    }
  });

  test('splits days in the site time zone, DST included, whatever the phone is set to', async () => {
    // The browser module runs in the browser, bundled here on its own (the app's bundle keeps it private).
    const got = await page.evaluate(`${await browserModule('web/src/tz.ts', 'tz')}; ({
      kampala: tz.midnight('2026-04-04', 'Africa/Kampala'),
      berlinShortDay: tz.dayRange('2026-03-29', 'Europe/Berlin'),
      leap: tz.addDays('2028-02-28', 1),
      december: tz.monthRange('2026-12-15', 'UTC'),
      dayOf: tz.dayOf(Date.UTC(2026, 3, 3, 21, 30), 'Africa/Kampala'),
    })`);
    assert.deepEqual(got, {
      kampala: Date.UTC(2026, 3, 3, 21),
      berlinShortDay: [Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22)],
      leap: '2028-02-29',
      december: [Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)],
      dayOf: '2026-04-04',
    });
  });

  test('breaks a chart line at an outage instead of drawing across it', async () => {
    const got = await page.evaluate(`${await browserModule('web/src/charts/align.ts', 'a')}; a.alignSeries(
      [[[0, 1], [1000, 2], [60000, 3]], [[0, 10], [60000, 30]]], 5000)`);
    // null = a break in the line; undefined = "this channel has no sample here", drawn across.
    assert.deepEqual(got, [
      [0, 1, 1000, 1001, 60000],
      [1, undefined, 2, null, 3],
      [10, null, undefined, undefined, 30],
    ]);
  });

  test('logs out back to the sign-in form', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    assert.equal(await page.getByTestId('nav').isVisible(), false);
    const me = await page.request.get(`${system.url}/api/me`);
    assert.equal(me.status(), 401);
  });
});
