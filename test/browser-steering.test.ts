import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchChromium, until } from './helpers/browser.js';
import { ASSETS, DEVICES, PASSWORD, startControlSite, type ControlSite } from './helpers/control-site.js';
import { PHONE, shoot, signIn, type UiSession } from './helpers/ui-session.js';

/**
 * The Steering pages in Chromium against a real system: the simulator's hybrid inverter (battery
 * and PV per phase), a grid meter and a generator over real Modbus, the edge cycle with battery
 * dispatch at Level 2 (so proposals wait for a person), at an injected noon in Kampala
 * (test/helpers/control-site.ts; never today's date).
 */
const OPERATOR = { username: 'otto_operator', password: 'operator-pass-42' };
const VIEWER = { username: 'vic_viewer', password: 'viewer-pass-42' };

const CONTROL = {
  devices: [...DEVICES, { component: 'gen0', profile: 'GENERIC-GENSET', bus: 'energy', address: 2 }],
  assets: [...ASSETS, { type: 'generator', component: 'gen0', ratedW: 8000 }],
  controllers: [
    { kind: 'self-consumption', id: 'self' },
    { kind: 'backup-reserve', id: 'reserve', floorPct: 20 },
  ],
  safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
  // The battery waits for approval; a PV limit is only recommended to people on site.
  autonomy: [
    { capability: 'battery-dispatch', asset: 'ess0', level: 'L2' },
    { capability: 'pv-curtailment', asset: 'pv0', level: 'L1' },
  ],
};

const STEERING_TABS = ['steering', 'steering-modes', 'steering-approvals', 'steering-overrides', 'steering-health', 'steering-audit'] as const;

describe('steering pages in Chromium', { skip: browserSkipReason(), timeout: 480_000 }, () => {
  let s: ControlSite;
  let browser: Browser;
  const sessions: UiSession[] = [];

  async function session(who: { username: string; password: string }, viewport?: { width: number; height: number }): Promise<UiSession> {
    const x = await signIn(browser, s.sys.url, who.username, who.password, viewport);
    sessions.push(x);
    return x;
  }

  async function tab(page: Page, id: (typeof STEERING_TABS)[number]): Promise<void> {
    await page.getByTestId(`steering-tab-${id}`).click();
    await page.getByTestId(id).waitFor();
  }

  before(async () => {
    s = await startControlSite({ control: CONTROL, energy: { generatorW: 8000 }, pv: { L1: 1800, L2: 1500, L3: 1200 } });
    for (const [u, role] of [
      [OPERATOR, 'operator'],
      [VIEWER, 'viewer'],
    ] as const) {
      const r = await s.call('POST', '/api/users', { username: u.username, password: u.password, role });
      assert.equal(r.status, 200, r.text);
    }
    browser = await launchChromium();
  });

  after(async () => {
    for (const x of sessions) await x.context.close().catch(() => undefined);
    await (browser as Browser | undefined)?.close();
    await (s as ControlSite | undefined)?.close();
  });

  test('an operator reads the energy flow, switches to peak shaving, approves a Level 2 proposal and takes an override with a countdown', async () => {
    const { page, problems } = await session(OPERATOR);
    await page.getByTestId('nav-steering').click();
    await page.getByTestId('steering').waitFor();

    // Energy flow: PV produces, the battery's SoC is shown, each phase has its row; directions in words.
    await until('live values', async () =>
      (await page.getByTestId('flow-pv').getAttribute('data-quality')) === 'GOOD' &&
      (await page.getByTestId('flow-grid').getAttribute('data-quality')) === 'GOOD'
        ? true
        : undefined,
    );
    assert.equal(await page.getByTestId('flow-pv-dir').textContent(), 'producing');
    assert.match((await page.getByTestId('flow-soc').textContent()) ?? '', /SoC 6\d %/);
    assert.match((await page.getByTestId('flow-grid-dir').textContent()) ?? '', /^(importing|exporting|none)$/);
    assert.equal(await page.getByTestId('flow-phase').count(), 3);
    assert.match((await page.getByTestId('flow-signs').textContent()) ?? '', /charging = power goes into the battery/);
    await shoot(page, 'steering-flow');

    // Modes: a refusal sits under its field; then peak shaving replaces self-consumption.
    await tab(page, 'steering-modes');
    const self = page.locator('[data-testid="controller-row"][data-id="self"]');
    await self.getByTestId('controller-enabled').uncheck();
    await page.getByTestId('add-kind').selectOption('peak-shaving');
    await page.getByTestId('add-controller').click();
    const peak = page.locator('[data-testid="controller-row"][data-kind="peak-shaving"]');
    await peak.getByTestId('field-importLimitW').fill('-5');
    await page.getByTestId('mode-apply').click();
    await page.getByTestId('mode-reason-error').waitFor();
    assert.match((await page.getByTestId('mode-reason-error').textContent()) ?? '', /Say why/);
    assert.match((await peak.locator('.field-error:not([hidden])').first().textContent()) ?? '', /At least 0/);
    await peak.getByTestId('field-importLimitW').fill('2000');
    await peak.getByTestId('field-exportLimitW').fill('0');
    await page.getByTestId('mode-reason').fill('evening peak: keep import under 2 kW');
    await page.getByTestId('mode-apply').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByTestId('mode-saved').waitFor();
    const kinds = s.sys.control
      ?.controllerConfigList()
      .filter((c) => c.enabled)
      .map((c) => c.kind);
    assert.deepEqual(kinds?.sort(), ['backup-reserve', 'peak-shaving']);
    await page.locator('[data-testid="running-controller"][data-kind="peak-shaving"]').waitFor();
    await shoot(page, 'steering-modes');

    // Approvals: peak shaving's Level 2 proposal (charge the battery with the export above the limit)
    // with why and its expiry, approved after a confirmation; its PV limit is a Level 1 recommendation.
    await tab(page, 'steering-approvals');
    const proposal = page
      .getByTestId('proposal')
      .filter({ hasText: /bound by peak/ })
      .first();
    await proposal.waitFor({ timeout: 30_000 });
    assert.match((await proposal.getByTestId('proposal-what').textContent()) ?? '', /^charge ess0 at \d+\.\d\d kW on L\d$/);
    await page.getByTestId('recommendation').first().waitFor({ timeout: 20_000 });
    assert.match((await page.getByTestId('recommendation').first().textContent()) ?? '', /limit pv0 to/);
    assert.match((await proposal.getByTestId('proposal-expiry').textContent()) ?? '', /expires in \d+:\d\d/);
    assert.ok(((await proposal.getByTestId('proposal-why').textContent()) ?? '').length > 5, 'says why');
    await shoot(page, 'steering-approvals');
    const id = Number(await proposal.getAttribute('data-source-id'));
    await proposal.getByTestId('proposal-approve').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByTestId('approval-done').waitFor();
    const approved = await s.call('GET', '/api/control/proposals?state=approved');
    assert.ok(
      (approved.json.proposals as Array<{ id: number; decidedBy: string }>).some((p) => p.id === id && p.decidedBy === OPERATOR.username),
      approved.text,
    );

    // Overrides: the battery held by hand; the countdown runs down.
    await tab(page, 'steering-overrides');
    const ess = page.locator('[data-testid="override-asset"][data-asset="ess0"]');
    await ess.getByTestId('override-open').click();
    await ess.getByTestId('override-how').selectOption('idle');
    await ess.getByTestId('override-minutes').fill('5');
    await ess.getByTestId('override-submit').click();
    await ess.getByTestId('take-ess0-reason-error').waitFor();
    assert.match((await ess.getByTestId('take-ess0-reason-error').textContent()) ?? '', /Say why/);
    await ess.getByTestId('override-reason').fill('electrician at the battery cabinet');
    await ess.getByTestId('override-submit').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByTestId('override-done').waitFor();
    const countdown = ess.getByTestId('override-countdown');
    await countdown.waitFor();
    const first = (await countdown.textContent()) ?? '';
    assert.match(first, /^[45]:\d\d left$/);
    const later = await until(
      'the countdown moves',
      async () => {
        const t = (await countdown.textContent()) ?? '';
        return t !== first ? t : undefined;
      },
      5_000,
    );
    assert.match(later, /^4:\d\d left$/);
    const st = await s.call('GET', '/api/control');
    assert.ok((st.json.overrides as Array<{ asset: string; by: string }>).some((o) => o.asset === 'ess0' && o.by === OPERATOR.username));
    await shoot(page, 'steering-overrides');

    // Cycle health and the audit log with its chain verified.
    await tab(page, 'steering-health');
    await page.locator('[data-testid="health-controller"][data-id="peak"]').waitFor();
    assert.match((await page.getByTestId('jitter').textContent()) ?? '', /ms \/ .* ms/);
    assert.equal(await page.getByTestId('estop').getAttribute('data-pressed'), 'false');
    await shoot(page, 'steering-health');
    await tab(page, 'steering-audit');
    await page.getByTestId('audit-entry').first().waitFor();
    const entries = page.getByTestId('audit-entry');
    const actions: string[] = [];
    for (let i = 0; i < (await entries.count()); i++) actions.push((await entries.nth(i).getAttribute('data-action')) ?? '');
    for (const a of ['mode', 'approved', 'override']) assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
    await page.getByTestId('verify-chain').click();
    await page.getByTestId('verify-result').waitFor();
    assert.equal(await page.getByTestId('verify-result').getAttribute('data-ok'), 'true');
    await shoot(page, 'steering-audit');

    // Release ends the override early.
    await tab(page, 'steering-overrides');
    await ess.getByTestId('override-release').click();
    await page.getByTestId('confirm-yes').click();
    await ess.getByTestId('override-none').waitFor();
    assert.deepEqual(problems, []);
  });

  test('on a 375 px phone every steering page fits without sideways scrolling', async () => {
    const { page, problems } = await session(OPERATOR, PHONE);
    await page.getByTestId('nav-steering').click();
    for (const id of STEERING_TABS) {
      await tab(page, id);
      await page
        .locator('.loading')
        .first()
        .waitFor({ state: 'detached' })
        .catch(() => undefined);
      if (id === 'steering-overrides') await page.locator('[data-testid="override-asset"][data-asset="ess0"]').getByTestId('override-open').click();
      await shoot(page, `${id}-operator`);
    }
    assert.deepEqual(problems, []);
  });

  test('a viewer sees the flow, the queue and the log but no control; a silent grid meter is greyed with its age', async () => {
    const { page, problems } = await session(VIEWER, PHONE);
    await page.getByTestId('nav-steering').click();
    await page.getByTestId('flow-grid').waitFor();
    await tab(page, 'steering-modes');
    await page.getByTestId('modes-running').waitFor();
    assert.equal(await page.getByTestId('mode-editor').count(), 0);
    await tab(page, 'steering-approvals');
    await page.getByTestId('approvals-pending').waitFor();
    assert.equal(await page.getByTestId('proposal-approve').count(), 0);
    assert.equal(await page.getByTestId('proposal-reject').count(), 0);
    await tab(page, 'steering-overrides');
    await page.getByTestId('override-asset').first().waitFor();
    assert.equal(await page.getByTestId('override-take').count(), 0);
    await tab(page, 'steering-health');
    await page.getByTestId('health-escalations').waitFor();
    assert.equal(await page.getByTestId('escalation-confirm').count(), 0);
    // The server refuses the viewer too (the UI only hides what the API would refuse).
    const refused = await page.evaluate(
      async () =>
        (
          await fetch('/api/control/override', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ asset: 'ess0', mode: 'idle', minutes: 1, reason: 'x' }),
          })
        ).status,
    );
    assert.ok(refused === 403 || refused === 401, `refused with ${refused}`);

    s.sys.sim?.energy?.setGridMeterComms(false);
    await tab(page, 'steering');
    await until(
      'the grid value is greyed',
      async () => ((await page.getByTestId('flow-grid').getAttribute('data-quality')) !== 'GOOD' ? true : undefined),
      20_000,
    );
    await page.getByTestId('flow-grid-age').waitFor();
    assert.match((await page.getByTestId('flow-grid-age').textContent()) ?? '', /(stale|no answer) · /);
    assert.match((await page.getByTestId('flow-grid').getAttribute('class')) ?? '', /is-old/);
    await shoot(page, 'steering-flow-stale-viewer');
    await tab(page, 'steering-health');
    await page.getByTestId('safe-item').first().waitFor({ timeout: 20_000 });
    await shoot(page, 'steering-health-safe-viewer');
    s.sys.sim?.energy?.setGridMeterComms(true);
    assert.deepEqual(
      problems.filter((p) => !/\/api\//.test(p)),
      [],
    );
  });
});

describe('the energy flow shows the grid frequency and the droop in force', { skip: browserSkipReason(), timeout: 180_000 }, () => {
  let s: ControlSite;
  let browser: Browser;
  let session: UiSession | undefined;

  before(async () => {
    // Self-consumption and frequency droop (2 kW at full deviation) with the battery at Level 3, PV 3 kW.
    s = await startControlSite({
      control: {
        controllers: [
          { kind: 'self-consumption', id: 'self' },
          { kind: 'frequency-droop', id: 'droop', maxResponseW: 2000, pv: 'pv0' },
        ],
        safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
      },
      pv: { L1: 1000, L2: 1000, L3: 1000 },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await session?.context.close().catch(() => undefined);
    await (browser as Browser | undefined)?.close();
    await (s as ControlSite | undefined)?.close();
  });

  test('50 Hz: the frequency and no droop response; 50.3 Hz: "droop −1,000 W on battery ess0 (charges more)"', async () => {
    session = await signIn(browser, s.sys.url, 'admin', PASSWORD);
    const { page, problems } = session;
    await page.getByTestId('nav-steering').click();
    const line = page.getByTestId('flow-frequency');
    const text = async (): Promise<string> => (await line.textContent()) ?? '';
    const nominal = await until('the frequency line', async () => ((await line.count()) && /Hz/.test(await text()) ? await text() : undefined), 20_000);
    assert.match(nominal, /^Frequency (49\.9\d|50\.0\d) Hz · no droop response$/);
    const r = await s.call('POST', '/api/sim/energy/fault', { frequencyHz: 50.3 });
    assert.equal(r.status, 200, r.text);
    const over = await until('the droop in force', async () => ((await line.getAttribute('data-droop')) === 'on' ? await text() : undefined), 20_000);
    assert.equal(over, 'Frequency 50.30 Hz · droop −1,000 W on battery ess0 (charges more)');
    await shoot(page, 'steering-flow-droop');
    assert.deepEqual(problems, []);
  });
});
