import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSETS, cyclesPass, sleep, startControlSite, until, type ControlSite } from './helpers/control-site.js';

// Closed loop over real Modbus (issue 10, "Tests that must exist"): peak shaving under a load step, the
// backup reserve kept until the grid fails, islanding with load shedding by relay, and the grid's return.
// The simulated site starts at noon on a fixed day (helpers/control-site.ts), never today's date.

const BATTERY_ONLY = ASSETS.filter((a) => a.type !== 'pv');
const SAFETY = { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] };

/** Samples the main meter every 200 ms for `ms`. */
async function sample(s: ControlSite, ms: number): Promise<Array<ReturnType<ControlSite['grid']>>> {
  const out: Array<ReturnType<ControlSite['grid']>> = [];
  for (let t = 0; t < ms; t += 200) {
    out.push(s.grid());
    await sleep(200);
  }
  return out;
}

const discharge = (s: ControlSite): number => {
  const p = s.setpoints();
  return p.L1 + p.L2 + p.L3;
};

test('peak shaving: a load step above the import limit is met by discharging, and the battery returns to idle after it', async (t) => {
  const LIMIT = 1500;
  const s = await startControlSite({
    control: { assets: BATTERY_ONLY, controllers: [{ kind: 'peak-shaving', id: 'peak', importLimitW: LIMIT }], safety: SAFETY },
  });
  t.after(() => s.close());
  await until('the cycle steers with good data', () => s.cycles() >= 3 && (s.sys.control?.status().safe as unknown[]).length === 0);
  const before = s.grid().total;
  assert.ok(before < LIMIT - 300, `the site imports ${Math.round(before)} W before the step, under the ${LIMIT} W limit`);
  assert.ok(Math.abs(discharge(s)) < 1, 'the battery is idle below the limit');

  // A 4 kW load (a welder) switches on at customer 2 (L1).
  const model = s.sys.sim?.model;
  assert.ok(model);
  model.update();
  model.setLoadOverride(2, { watts: 4000, powerFactor: 0.98 });
  const stepAt = s.cycles();
  await until('the grid is back at the import limit', () => s.grid().total <= LIMIT + 100, 15_000);
  const settledIn = s.cycles() - stepAt;
  const held = await sample(s, 3000);
  const worst = Math.max(...held.map((g) => g.total));
  assert.ok(
    worst <= LIMIT + 100,
    `the import stays within 100 W of the ${LIMIT} W limit once settled (worst ${Math.round(worst)} W, settled ${settledIn} cycles after the step)`,
  );
  assert.ok(settledIn <= 4, `settled within 4 cycles of the step (took ${settledIn})`);
  const d = discharge(s);
  assert.ok(d > 2000 && d < 4500, `the battery discharges the excess: ${Math.round(d)} W`);
  const status = s.sys.control?.status() as { controllers: Array<{ id: string; status: { state: string } }> };
  assert.equal(status.controllers.find((c) => c.id === 'peak')?.status.state, 'ok');

  // The load goes away: the battery does not keep discharging into the grid.
  model.update();
  model.setLoadOverride(2, undefined);
  await until('the battery is idle again', () => Math.abs(discharge(s)) < 1, 15_000);
  await cyclesPass(s, 2); // the inverter's output follows its setpoint with a lag
  assert.ok(s.grid().total > 0, 'the site imports again, no export from a battery left discharging');
});

test('backup reserve: kept until the grid fails; then the site islands, non-critical loads are shed by relay and critical ones stay; the grid returns and they are restored; a second outage soon after sheds again', async (t) => {
  const s = await startControlSite({
    relays: true,
    energy: { initialSoc: 0.55 },
    control: {
      assets: BATTERY_ONLY,
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        { kind: 'backup-reserve', id: 'reserve', floorPct: 60, confirmMs: 2000, returnStableMs: 3000, restoreHoldMs: 4000 },
      ],
      safety: SAFETY,
      // meter 2 (L1) and meter 4 (L3) feed non-critical loads, meter 3 (L2) a clinic fridge.
      shedding: [{ meter: 2 }, { meter: 3, critical: true }, { meter: 4 }],
    },
  });
  t.after(() => s.close());
  const relays = s.sys.billing.relays;
  const state = async (m: number): Promise<string> => relays.state(m);
  await until('the cycle steers with good data', () => s.cycles() >= 3 && (s.sys.control?.status().safe as unknown[]).length === 0);

  // Billing disconnected meter 4 for arrears before the outage (an ordinary, guarded billing switch).
  await relays.open(4);
  // Meter 2 cooks at noon: 1.5 kW that self-consumption would like the battery to cover.
  s.sys.sim?.model.update();
  s.sys.sim?.model.setLoadOverride(2, { watts: 1500, powerFactor: 0.98 });

  // 1. On grid, below the floor: self-consumption would discharge to cover the import; the reserve blocks it.
  await cyclesPass(s, 3);
  assert.ok(s.grid().total > 200, `the site imports ${Math.round(s.grid().total)} W`);
  assert.ok(
    Object.values(s.setpoints()).every((w) => w <= 0),
    `the battery does not discharge below its reserve: ${JSON.stringify(s.setpoints())}`,
  );
  const reserve = (): { state: string; detail?: string; reason?: string } =>
    ((s.sys.control?.status().controllers ?? []) as Array<{ id: string; status: { state: string; detail?: string; reason?: string } }>).find(
      (c) => c.id === 'reserve',
    )?.status ?? { state: 'missing' };
  assert.match(reserve().detail ?? '', /on-grid.*discharge blocked/);

  // 2. The grid fails: islanded after the confirmation time; meter 2 is shed, meter 3 (critical) keeps its supply.
  s.sys.sim?.energy?.setGridConnected(false);
  await until('the site is islanded', () => /islanded/.test(reserve().detail ?? ''), 15_000);
  await until('the non-critical relay opens', async () => (await state(2)) === 'open', 10_000);
  assert.equal(await state(3), 'closed', 'the critical load keeps its supply');
  assert.equal(await state(4), 'open', 'meter 4 stays open');
  const island = s.sys.sim?.energy?.system.snapshot();
  assert.equal(island?.mode, 'island', 'the inverter carries the island');

  // 3. The grid returns: reconnected after it was stable for 3 s; what shedding opened closes again,
  //    and meter 4, which billing had disconnected, stays disconnected.
  s.sys.sim?.energy?.setGridConnected(true);
  await until('reconnected', () => /^on-grid/.test(reserve().detail ?? ''), 20_000);
  await until('the shed relay is closed again', async () => (await state(2)) === 'closed', 10_000);
  assert.equal(await state(3), 'closed');
  await cyclesPass(s, 2);
  assert.equal(await state(4), 'open', 'a customer disconnected by billing is not reconnected by the restore');

  // 4. A second outage a minute later: the billing relay guard's 15-minute dwell would refuse this open;
  //    a shed is a safety action and passes (counted against the channel's budget, never refused).
  s.sys.sim?.energy?.setGridConnected(false);
  await until('the non-critical relay opens again', async () => (await state(2)) === 'open', 15_000);
  const audit = await s.call('GET', '/api/control/audit?verify=1');
  assert.equal((audit.json.verification as { ok: boolean }).ok, true);
  const alarms = s.sys.alarms.store.list({ state: 'open' }).map((a) => `${a.rule} ${a.message}`);
  assert.ok(!alarms.some((a) => /control_dispatch/.test(a)), `no dispatch failure: ${alarms.join('; ')}`);
});

test('the simulator takes PV steps and grid-meter silence over HTTP, validated', async (t) => {
  const s = await startControlSite({ control: { assets: BATTERY_ONLY, controllers: [{ kind: 'passive', id: 'watch' }], safety: SAFETY } });
  t.after(() => s.close());
  const e = s.sys.sim?.energy;
  assert.ok(e);
  const ok = await s.call('POST', '/api/sim/energy/fault', { pv: { L1: 1200, L3: 800 } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.pvAvailableW, { L1: 1200, L2: 0, L3: 800 });
  assert.deepEqual(e.system.pvOverrideW, { L1: 1200, L2: 0, L3: 800 });
  const sun = await s.call('POST', '/api/sim/energy/fault', { pv: 'sun' });
  assert.equal(sun.json.pvAvailableW, 'sun');
  assert.equal(e.system.pvOverrideW, null);
  for (const bad of [{ pv: { L1: -5 } }, { pv: { L4: 100 } }, { pv: {} }, { pv: 'moon' }, { gridMeterComms: 'maybe' }, { pv: { L1: 1e9 } }]) {
    const r = await s.call('POST', '/api/sim/energy/fault', bad);
    assert.equal(r.status, 400, `${JSON.stringify(bad)} -> ${r.status} ${r.text}`);
  }
  await until('the grid meter is read', () => s.sys.site.image.get('grid', 'ActivePower_L1')?.quality === 'GOOD');
  const silent = await s.call('POST', '/api/sim/energy/fault', { gridMeterComms: 'lost' });
  assert.equal(silent.status, 200, silent.text);
  await until('the grid meter goes silent', () => s.sys.site.image.get('grid', 'ActivePower_L1')?.quality !== 'GOOD', 10_000);
  await s.call('POST', '/api/sim/energy/fault', { gridMeterComms: 'ok' });
  await until('the grid meter answers again', () => s.sys.site.image.get('grid', 'ActivePower_L1')?.quality === 'GOOD', 10_000);
  const viewer = await s.call('POST', '/api/sim/energy/fault', { pv: { L1: 100 } });
  assert.equal(viewer.status, 200);
});

test('zero export with the PV inverter steered too: curtailed PV comes back within a few cycles after a PV step, and no phase exports', async (t) => {
  const s = await startControlSite({
    control: {
      assets: ASSETS,
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        { kind: 'zero-export', id: 'zero' },
      ],
      safety: { ...SAFETY, exportLimitW: 0 },
    },
  });
  t.after(() => s.close());
  const e = s.sys.sim?.energy;
  assert.ok(e);
  await until('the cycle steers with good data', () => s.cycles() >= 3 && (s.sys.control?.status().safe as unknown[]).length === 0);
  const pvNow = (): number => {
    const x = e.system.snapshot().pvW;
    return x.L1 + x.L2 + x.L3;
  };
  // The night's limit: nothing to produce, and a limit that follows production down to it.
  await cyclesPass(s, 2);
  const limitBefore = e.system.pvLimitW;
  e.setPvAvailable({ L1: 1500, L2: 1800, L3: 1200 });
  const stepAt = s.cycles();
  const worst: number[] = [];
  await until(
    'PV produces 95 % of what the sun gives',
    () => {
      const g = s.grid();
      worst.push(Math.min(g.L1, g.L2, g.L3));
      return pvNow() >= 0.95 * 4500;
    },
    20_000,
  );
  const releasedIn = s.cycles() - stepAt;
  const held = await sample(s, 3000);
  for (const g of held) worst.push(Math.min(g.L1, g.L2, g.L3));
  assert.ok(releasedIn <= 6, `PV back within 6 cycles (took ${releasedIn}; the limit was ${Math.round(limitBefore)} W before the step)`);
  assert.ok(Math.min(...worst) > -60, `no phase exports more than 60 W, during the release or after (worst ${Math.round(Math.min(...worst))} W)`);
  assert.ok(discharge(s) < -3000, `the battery stores the surplus: ${Math.round(discharge(s))} W`);
  const st = s.sys.control?.status() as { controllers: Array<{ id: string; status: { state: string } }> };
  assert.deepEqual(st.controllers.map((c) => c.status.state).sort(), ['ok', 'ok']);
});
