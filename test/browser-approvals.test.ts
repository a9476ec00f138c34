import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserSkipReason, launchChromium, until } from './helpers/browser.js';
import { ASSETS, startControlSite, type ControlSite } from './helpers/control-site.js';
import { PHONE, shoot, signIn, type UiSession } from './helpers/ui-session.js';

/**
 * The one approvals queue in Chromium (issue 10 item 8): a billing disconnect proposal (supply-disconnect,
 * business) and the edge cycle's Level 2 battery proposals (battery-dispatch, optimisation) in one list,
 * read from GET /api/approvals, each with its class, asset and expiry countdown; an operator approves one
 * of each. A real system: the simulator's hybrid inverter and relays over Modbus, at an injected noon.
 */
const OPERATOR = { username: 'olga_operator', password: 'operator-pass-42' };

const CONTROL = {
  assets: ASSETS,
  controllers: [{ kind: 'self-consumption', id: 'self' }],
  safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
  // The battery waits for approval; PV is only recommended, so its export stays for the battery to take.
  autonomy: [
    { capability: 'battery-dispatch', asset: 'ess0', level: 'L2' },
    { capability: 'pv-curtailment', asset: 'pv0', level: 'L1' },
  ],
};

describe('the one approvals queue in Chromium', { skip: browserSkipReason(), timeout: 300_000 }, () => {
  let s: ControlSite;
  let browser: Browser;
  const sessions: UiSession[] = [];

  before(async () => {
    s = await startControlSite({
      control: CONTROL,
      relays: true,
      pv: { L1: 1800, L2: 1500, L3: 1200 },
      extra: {
        billing: { currency: 'UGX' },
        governance: { disconnectAutonomy: 'supervised', noDisconnectWindows: [], noDisconnectWeekdays: [] },
      },
    });
    let r = await s.call('POST', '/api/users', { username: OPERATOR.username, password: OPERATOR.password, role: 'operator' });
    assert.equal(r.status, 200, r.text);
    r = await s.call('POST', '/api/tariffs', {
      id: 't1',
      name: 'Flat',
      currency: 'UGX',
      versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 1000 * 10_000 } }],
    });
    assert.equal(r.status, 200, r.text);
    r = await s.call('POST', '/api/customers', { id: 'amina', name: 'Amina', phone: '+256772123456', tariffId: 't1', mode: 'prepaid', meter: 2 });
    assert.equal(r.status, 201, r.text);
    browser = await launchChromium();
  });

  after(async () => {
    for (const x of sessions) await x.context.close().catch(() => undefined);
    await (browser as Browser | undefined)?.close();
    await (s as ControlSite | undefined)?.close();
  });

  test('an operator sees a billing disconnect and an edge proposal in one queue, with class, asset and countdown, and approves one of each', async () => {
    // The prepaid loop's proposal at zero credit, as the system makes it (supervised: it waits for a person).
    const d = await s.sys.billing.gate.propose({
      capability: 'disconnect',
      asset: { customer: 'amina', meter: 2 },
      reason: 'prepaid balance UGX 0.00',
      proposedBy: { kind: 'system' },
    });
    assert.ok(d.created && d.proposal.state === 'pending');
    const model = s.sys.sim?.model;
    assert.ok(model);
    assert.equal(model.isLoadConnected(2), true);

    const ui = await signIn(browser, s.sys.url, OPERATOR.username, OPERATOR.password);
    sessions.push(ui);
    const { page, problems } = ui;
    // Billing's Disconnects page points to the one queue.
    await page.goto(`${s.sys.url}/#/billing/proposals`);
    await page.locator('[data-testid=queue-count][data-count="1"]').waitFor();
    await page.getByTestId('approvals-link').click();
    await page.getByTestId('steering-approvals').waitFor();

    const queue = page.getByTestId('approval-queue');
    const supply = queue.locator(`[data-testid=proposal][data-id="supply-${d.proposal.id}"]`);
    const edge = queue.locator('[data-testid=proposal][data-source=control][data-capability=battery-dispatch]').first();
    await supply.waitFor({ timeout: 30_000 });
    await edge.waitFor({ timeout: 30_000 });
    // One list: both are items of the same queue element.
    assert.equal(await page.getByTestId('approval-queue').count(), 1);
    assert.equal(await supply.getByTestId('proposal-what').textContent(), 'disconnect amina (relay2)');
    assert.equal(await supply.getByTestId('proposal-class').textContent(), 'business');
    assert.match((await supply.getByTestId('proposal-expiry').textContent()) ?? '', /^expires in \d+ h \d\d min$/);
    assert.match((await supply.getByTestId('proposal-meta').textContent()) ?? '', /supply-disconnect on relay2 \(customer amina\)/);
    assert.match((await edge.getByTestId('proposal-what').textContent()) ?? '', /^charge ess0 at \d+\.\d\d kW on L\d$/);
    assert.equal(await edge.getByTestId('proposal-class').textContent(), 'optimisation');
    assert.match((await edge.getByTestId('proposal-expiry').textContent()) ?? '', /^expires in \d+:\d\d$/);
    assert.match((await edge.getByTestId('proposal-meta').textContent()) ?? '', /battery-dispatch on ess0/);
    await shoot(page, 'approvals-unified');

    // The billing disconnect: approved after a confirmation, the relay opens.
    await supply.getByTestId('proposal-approve').click();
    await page.getByTestId('confirm-yes').click();
    await until('the relay opens', () => (model.isLoadConnected(2) ? undefined : true));
    await page.getByTestId('approval-done').waitFor();
    assert.match(
      (await page.getByTestId('approval-done').textContent()) ?? '',
      new RegExp(`Approved supply-${d.proposal.id}: disconnect amina \\(relay2\\) \\(executed\\)`),
    );

    // An edge proposal: approved by the same hands.
    const next = queue.locator('[data-testid=proposal][data-source=control][data-capability=battery-dispatch]').first();
    await next.waitFor({ timeout: 30_000 });
    const id = await next.getAttribute('data-id');
    assert.match(id ?? '', /^control-\d+$/);
    await next.getByTestId('proposal-approve').click();
    await page.getByTestId('confirm-yes').click();
    await until('the approval is recorded', async () => {
      const r = await s.call('GET', '/api/approvals');
      const items = r.json.proposals as Array<{ id: string; state: string; decidedBy: string | null }>;
      const edgeDone = items.find((x) => x.id === id);
      const supplyDone = items.find((x) => x.id === `supply-${d.proposal.id}`);
      return edgeDone?.state === 'approved' &&
        edgeDone.decidedBy === OPERATOR.username &&
        supplyDone?.state === 'executed' &&
        supplyDone.decidedBy === OPERATOR.username
        ? true
        : undefined;
    });
    // Both show under "Decided lately", by the operator.
    await page.locator(`[data-testid=decided][data-id="${id ?? ''}"][data-by=${OPERATOR.username}]`).waitFor();
    await page.locator(`[data-testid=decided][data-id="supply-${d.proposal.id}"][data-by=${OPERATOR.username}]`).waitFor();
    await shoot(page, 'approvals-unified-decided');
    assert.equal(s.sys.billing.audit.verify().ok, true);
    assert.deepEqual(problems, []);
  });

  test('the queue fits a 375 px phone', async () => {
    const ui = await signIn(browser, s.sys.url, OPERATOR.username, OPERATOR.password, PHONE);
    sessions.push(ui);
    await ui.page.goto(`${s.sys.url}/#/steering/approvals`);
    await ui.page.getByTestId('approvals-pending').waitFor();
    await ui.page.getByTestId('approvals-decided').waitFor();
    await shoot(ui.page, 'approvals-unified');
    assert.deepEqual(ui.problems, []);
  });
});
