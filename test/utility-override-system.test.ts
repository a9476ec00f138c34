import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockStartingAt } from '../src/util/clock.js';
import { ASSETS, NOON, sleep, startControlSite, until } from './helpers/control-site.js';
import { startUtilityServer } from './helpers/utility-server.js';

// A person's override against the utility's limits, closed loop (issue 10 item 8 with issue 11 item 3):
// the utility's 2030.5 server (mTLS) sets an export limit of 1 kW; an operator overrides the battery to
// discharge 5 kW. The override is lessened until the connection point exports no more than the limit,
// and the decision says why. The other way, under a 0 W import limit an operator idles the battery: it
// stays idle (the limit never makes an asset do more than a person asked).

const EXPORT_LIMIT_W = 1000;
const tolerance = (w: number): number => Math.min(0.04 * w, 100);

test("an operator's override is lessened to the utility's export limit, and an idled battery is not made to discharge by an import limit", async (t) => {
  const serverClock = clockStartingAt(NOON);
  const utility = await startUtilityServer({ clock: serverClock, defaults: { opModExpLimW: EXPORT_LIMIT_W, opModImpLimW: 0 }, events: [] });
  const s = await startControlSite({
    control: { assets: ASSETS, controllers: [{ kind: 'utility-limits', id: 'utility' }] },
    extra: { csip: utility.csip },
  });
  t.after(async () => {
    await s.close();
    await utility.close();
  });
  await until('the limits are in force', () => s.sys.site.image.get('utility', 'ExportLimitW')?.value === EXPORT_LIMIT_W, 30_000);
  await sleep(3000);
  const load = s.grid().total + s.setpoints().L1 + s.setpoints().L2 + s.setpoints().L3;

  let r = await s.call('POST', '/api/control/override', { asset: 'ess0', setpoint: 5000, minutes: 5, reason: 'drain the battery for a test' });
  assert.equal(r.status, 200, r.text);
  await sleep(6000);
  const samples: number[] = [];
  for (let i = 0; i < 12; i++) {
    samples.push(-s.grid().total);
    await sleep(250);
  }
  const worst = Math.max(...samples);
  const why = (): string => JSON.stringify(s.sys.control?.status().lastCycle);
  assert.ok(worst <= EXPORT_LIMIT_W + tolerance(EXPORT_LIMIT_W), `export ${Math.round(worst)} W with the override (limit ${EXPORT_LIMIT_W} W): ${why()}`);
  const sp = s.setpoints();
  const battery = sp.L1 + sp.L2 + sp.L3;
  assert.ok(battery > 500 && battery < 5000 - 500, `battery discharges ${Math.round(battery)} W: lessened, not stopped (load ${Math.round(load)} W)`);
  const decisions =
    (s.sys.control?.status().lastCycle as { decisions?: Array<{ target: string; why: string; authority: string | null }> } | null)?.decisions ?? [];
  const d = decisions.find((x) => x.target.startsWith('ess0/SetActivePower'));
  assert.ok(d, 'a decision on the battery');
  assert.equal(d.authority, 'override');
  assert.match(d.why, /override by admin .*lessened to \d+ by utility export limit 1000 W/);
  t.diagnostic(`override 5000 W under a 1 kW export limit: battery ${Math.round(battery)} W, worst export ${Math.round(worst)} W, load ${Math.round(load)} W`);

  // Idle under a 0 W import limit: the site imports its load, the battery stays at 0.
  r = await s.call('POST', '/api/control/override', { asset: 'ess0', setpoint: 0, minutes: 5, reason: 'electrician at the battery cabinet' });
  assert.equal(r.status, 200, r.text);
  await sleep(4000);
  const idle = s.setpoints();
  assert.equal(idle.L1 + idle.L2 + idle.L3, 0, `the idled battery stays idle: ${JSON.stringify(idle)}`);
  assert.ok(s.grid().total > 100, `the site imports its load (${Math.round(s.grid().total)} W) over the 0 W import limit, as the person chose`);
});
