import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSETS, cyclesPass, startControlSite, until } from './helpers/control-site.js';

// Closed loop over real Modbus (issue 10, "islanding and load shedding, return of the grid"): the grid fails,
// the site islands, non-critical loads are shed by relay in stages as the SoC falls, a stage comes back when
// the SoC recovers, the grid returns, the stages are restored in reverse order and the battery recharges
// from the grid to its reserve. The SoC is driven by the test (the simulator's setSoc), so which stage is
// shed depends on the SoC the test set, not on how fast the machine runs; the order of the restores is read
// from the cycle's own decision record (timestamps of the test's clock), not from wall time.

const BATTERY_ONLY = ASSETS.filter((a) => a.type !== 'pv');

test('backup reserve over Modbus: staged shedding while islanded, reverse restore on return, recharge to the reserve', async (t) => {
  const s = await startControlSite({
    relays: true,
    energy: { initialSoc: 0.63, capacityWh: 4_000 },
    control: {
      assets: BATTERY_ONLY,
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        {
          kind: 'backup-reserve',
          id: 'reserve',
          floorPct: 60,
          confirmMs: 1000,
          returnStableMs: 2000,
          restoreHoldMs: 4000,
          restoreStepMs: 3000,
          shedDwellMs: 2000,
          shedHysteresisPct: 3,
          // Stage 1 (meter 2, L1) at the 60 % floor, stage 2 (meter 4, L3) at 50 %; meter 3 (L2) is critical.
          shedStages: [{ relays: ['relay2'] }, { relays: ['relay4'], socPct: 50 }],
          rechargeW: 2000,
        },
      ],
      safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
      shedding: [{ meter: 2 }, { meter: 3, critical: true }, { meter: 4 }],
    },
  });
  t.after(() => s.close());
  const e = s.sys.sim?.energy;
  const control = s.sys.control;
  assert.ok(e && control);
  const relays = s.sys.billing.relays;
  const state = (m: number): Promise<string> => relays.state(m);
  const reserve = (): string => {
    const st = (control.status().controllers as Array<{ id: string; status: { state: string; detail?: string; reason?: string } }>).find(
      (c) => c.id === 'reserve',
    )?.status;
    return `${st?.state ?? 'missing'}: ${st?.detail ?? st?.reason ?? ''}`;
  };
  await until('the cycle steers with good data', () => s.cycles() >= 3 && (control.status().safe as unknown[]).length === 0);
  await until('the reserve is on grid, above the floor', () => /^ok: on-grid; SoC 6[23]/.test(reserve()));

  // 1. The grid fails: the site islands; at 63 % (above the floor) nothing is shed yet.
  e.setGridConnected(false);
  await until('islanded', () => /grid lost: site islanded/.test(reserve()), 15_000);
  await cyclesPass(s, 2);
  assert.match(reserve(), /shed 0 of 2 stages/);
  assert.deepEqual([await state(2), await state(3), await state(4)], ['closed', 'closed', 'closed'], 'islanded above the floor: every load kept');

  // 2. SoC at the floor: stage 1 (meter 2) is shed, stage 2 (meter 4) is not.
  e.setSoc(0.595);
  await until('stage 1 is shed', async () => (await state(2)) === 'open', 15_000);
  await cyclesPass(s, 3); // past the 2 s dwell: still only stage 1 at 59 %
  assert.match(reserve(), /shed 1 of 2 stages/);
  assert.equal(await state(4), 'closed', 'stage 2 waits for 50 %');

  // 3. SoC under 50 %: stage 2 too; the critical load keeps its supply throughout.
  e.setSoc(0.49);
  await until('stage 2 is shed', async () => (await state(4)) === 'open', 15_000);
  assert.match(reserve(), /shed 2 of 2 stages/);
  assert.equal(await state(3), 'closed', 'the critical load is never shed');

  // 4. The SoC recovers past 50 + 3 % (PV, or a generator): stage 2 comes back, stage 1 stays shed.
  e.setSoc(0.535);
  await until('stage 2 restored while islanded', async () => (await state(4)) === 'closed', 15_000);
  assert.equal(await state(2), 'open');
  // ... and falls again: stage 2 is shed again after the dwell.
  e.setSoc(0.49);
  await until('stage 2 shed again', async () => (await state(4)) === 'open', 15_000);

  // 5. The grid returns: reconnected after 2 s of stable grid, then stage 2 back first, stage 1 a step later.
  const returnedAt = s.clock();
  e.setGridConnected(true);
  await until('both stages restored', async () => (await state(2)) === 'closed' && (await state(4)) === 'closed', 30_000);
  const closes = control.log
    .recent(300)
    .filter((c) => c.at >= returnedAt)
    .flatMap((c) =>
      c.decisions
        .filter((d) => d.outcome === 'actuate' && d.value === 1 && /^relay[24]\/SetClosed$/.test(d.target))
        .map((d) => ({ at: c.at, target: d.target })),
    );
  const first = (target: string): number => closes.find((x) => x.target === target)?.at ?? NaN;
  assert.ok(
    first('relay4/SetClosed') < first('relay2/SetClosed'),
    `restored in reverse order: relay4 at +${first('relay4/SetClosed') - returnedAt} ms, relay2 at +${first('relay2/SetClosed') - returnedAt} ms`,
  );
  assert.ok(
    first('relay2/SetClosed') - first('relay4/SetClosed') >= 3000,
    `one restore step (3 s) apart on the cycle's clock: ${first('relay2/SetClosed') - first('relay4/SetClosed')} ms`,
  );

  t.diagnostic(
    `after the grid returned: relay4 closed at +${first('relay4/SetClosed') - returnedAt} ms, relay2 at +${first('relay2/SetClosed') - returnedAt} ms`,
  );

  // 6. On grid at 49 %: the battery recharges from the grid at 2 kW back to the 60 % reserve, then stops.
  await until('recharging at 2 kW', () => /recharging at 2000 W/.test(reserve()), 15_000);
  await cyclesPass(s, 2);
  const sp = e.system.setpointW;
  const charging = sp.L1 + sp.L2 + sp.L3;
  assert.ok(Math.abs(charging + 2000) < 50, `the battery is asked to charge 2 kW: ${Math.round(charging)} W`);
  assert.ok(s.grid().total > 1500, `from the grid: the site imports ${Math.round(s.grid().total)} W`);
  t.diagnostic(`recharge: battery asked ${Math.round(charging)} W, site imports ${Math.round(s.grid().total)} W`);
  const before = e.system.snapshot().soc;
  e.setSoc(0.5997); // 0.03 % short of the reserve: about 1.2 Wh, a few seconds at 2 kW
  await until('the SoC is back at the reserve and the recharge stops', () => !/recharging/.test(reserve()) && /SoC 60(\.\d)? %/.test(reserve()), 30_000);
  // The inverter reports SoC in 0.1 % steps: 59.95 % and up reads as the 60 % reserve.
  assert.ok(e.system.snapshot().soc >= 0.5995, `SoC ${(e.system.snapshot().soc * 100).toFixed(2)} % (from ${(before * 100).toFixed(2)} % after the restore)`);
  const alarms = s.sys.alarms.store.list({ state: 'open' }).map((a) => `${a.rule} ${a.message}`);
  assert.ok(!alarms.some((a) => /control_dispatch/.test(a)), `no dispatch failure: ${alarms.join('; ')}`);
});
