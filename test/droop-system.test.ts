import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { busSchema } from '../src/config/site-config.js';
import { demoConfig } from '../src/demo/demo-config.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { decodeBlock, DEFAULT_SCALING } from '../src/drivers/point-codec.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { ModbusBus } from '../src/modbus/bus.js';
import { DEFAULT_BATTERY, DEFAULT_GENERATOR, DEFAULT_INVERTER, DEFAULT_PV } from '../src/sim/energy-system.js';
import { startSimulator, type SimulatorHandle } from '../src/sim/simulator.js';
import { manualClock } from '../src/util/clock.js';
import { ASSETS, cyclesPass, startControlSite, until, type ControlSite } from './helpers/control-site.js';

// Closed loop over real Modbus (issue 10 items 4 and 5): the simulator's grid frequency is served by the
// grid meter's Frequency register, read by the poller, and frequency droop adds its response to what
// self-consumption decided. Values are read from the cycle's decision record and the simulator's state,
// never from wall time; the site starts at noon on a fixed day (helpers/control-site.ts).

const SAFETY = { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] };
const PHASE_TARGETS = ['ess0/SetActivePower_L1', 'ess0/SetActivePower_L2', 'ess0/SetActivePower_L3'];
/** 2 kW at full deviation: 49.7 Hz gives +1 kW, 50.3 Hz -1 kW (docs/ems-modes.md, the Nordic defaults). */
const MAX_RESPONSE_W = 2000;

/** The battery's decision in the last cycle: the total value and what the droop's offset added to it. */
function battery(s: ControlSite): { value: number; offset: number; self: number; cycle: number } {
  const last = s.sys.control?.log.recent(1)[0];
  const ds = (last?.decisions ?? []).filter((d) => PHASE_TARGETS.includes(d.target) && d.outcome === 'actuate');
  const value = ds.reduce((x, d) => x + d.value, 0);
  const offset = ds.reduce((x, d) => x + d.offset, 0);
  return { value, offset, self: value - offset, cycle: last?.cycle ?? -1 };
}

const near = (x: number, want: number, tol: number): boolean => Math.abs(x - want) <= tol;

test('frequency droop over Modbus: under-frequency discharges by the offset on top of self-consumption, over-frequency charges more, 50 Hz gives the grid back to self-consumption', async (t) => {
  const s = await startControlSite({
    control: {
      assets: ASSETS,
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        { kind: 'frequency-droop', id: 'droop', maxResponseW: MAX_RESPONSE_W, pv: 'pv0' },
      ],
      safety: SAFETY,
    },
  });
  t.after(() => s.close());
  const e = s.sys.sim?.energy;
  assert.ok(e);
  const ess = (): number => {
    const w = e.system.snapshot().essW;
    return w.L1 + w.L2 + w.L3;
  };
  const pv = (): number => {
    const w = e.system.snapshot().pvW;
    return w.L1 + w.L2 + w.L3;
  };
  const hz = (): number => s.sys.site.image.get('grid', 'Frequency')?.value ?? NaN;
  const setHz = async (f: number): Promise<void> => {
    const r = await s.call('POST', '/api/sim/energy/fault', { frequencyHz: f });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.frequencyHz, f);
  };
  /** Waits until the decision and the physics agree with `ok`; returns the cycles it took. */
  const settle = async (what: string, ok: () => boolean, maxCycles: number): Promise<number> => {
    const from = s.cycles();
    await until(what, ok, (maxCycles + 10) * 1500);
    await cyclesPass(s, 2); // and it holds
    assert.ok(ok(), `${what}: still true 2 cycles later`);
    const took = s.cycles() - from - 2;
    assert.ok(took <= maxCycles, `${what} within ${maxCycles} cycles (took ${took})`);
    return took;
  };
  await until('the cycle steers with good data', () => s.cycles() >= 3 && (s.sys.control?.status().safe as unknown[]).length === 0);

  // 1. 50 Hz, no PV: self-consumption holds the grid at 0 with the battery; the droop is idle.
  await settle('self-consumption holds the grid at 0', () => near(s.grid().total, 0, 100) && battery(s).offset === 0, 10);
  const before = battery(s);
  assert.ok(near(hz(), 50, 0.1), `the grid meter reads ${hz()} Hz over Modbus`);

  // 2. 49.7 Hz (between f1 49.5 and f2 49.9): +1 kW added to what self-consumption wants; the grid exports it.
  await setHz(49.7);
  const underIn = await settle(
    'the battery discharges 1 kW more and the grid exports it',
    () => near(hz(), 49.7, 0.01) && near(battery(s).offset, 1000, 1) && near(s.grid().total, -1000, 150),
    8,
  );
  const under = { ...battery(s), grid: s.grid().total, ess: ess() };
  assert.ok(near(under.self, before.self, 150), `self-consumption's own part is unchanged: ${Math.round(under.self)} W (before ${Math.round(before.self)} W)`);
  assert.ok(near(under.ess, before.value + 1000, 150), `the battery delivers its part plus the offset: ${Math.round(under.ess)} W`);
  assert.ok(under.ess <= 6000, 'inside the battery limit');
  const droop =
    (s.sys.control?.status().controllers as Array<{ id: string; status: { state: string; detail?: string } }>).find((c) => c.id === 'droop') ??
    assert.fail('no droop controller in the status');
  assert.equal(droop.status.state, 'ok');
  assert.match(droop.status.detail ?? '', /under-frequency response/);

  // 3. Back to 50 Hz: the offset goes away and self-consumption returns the grid to 0.
  await setHz(50);
  const backIn = await settle('the offset is gone and the grid is back at 0', () => battery(s).offset === 0 && near(s.grid().total, 0, 150), 8);

  // 4. PV 3 kW, 50 Hz: self-consumption charges the surplus; 50.3 Hz: the battery charges 1 kW more, the grid imports it.
  e.setPvAvailable({ L1: 1000, L2: 1000, L3: 1000 });
  await settle('the battery stores the PV surplus', () => near(s.grid().total, 0, 150) && battery(s).value < -2000, 10);
  const sunny = { ...battery(s), ess: ess() };
  await setHz(50.3);
  const overIn = await settle(
    'the battery charges 1 kW more and the grid imports it',
    () => near(hz(), 50.3, 0.01) && near(battery(s).offset, -1000, 1) && near(s.grid().total, 1000, 150),
    8,
  );
  const over = { ...battery(s), grid: s.grid().total, ess: ess(), pv: pv() };
  assert.ok(near(over.ess, sunny.ess - 1000, 150), `the battery charges ${Math.round(-over.ess)} W (${Math.round(-sunny.ess)} W before)`);
  assert.ok(over.ess >= -6000, 'inside the battery limit');
  assert.ok(over.pv > 2900, `PV is not curtailed while the battery takes the response: ${Math.round(over.pv)} W`);

  // 5. 50 Hz again: the offset goes away, the grid is back at 0.
  await setHz(50);
  const endIn = await settle('the offset is gone and the grid is back at 0 with PV', () => battery(s).offset === 0 && near(s.grid().total, 0, 150), 8);

  // 6. PV 4.5 kW: the battery charges about 4.4 kW of its 6 kW; 50.6 Hz (above f4) asks 2 kW more: the battery
  //    takes what it can up to its limit and the rest comes off PV, so the grid still imports the full 2 kW.
  e.setPvAvailable({ L1: 1500, L2: 1500, L3: 1500 });
  await settle('the battery stores the larger surplus', () => near(s.grid().total, 0, 150) && battery(s).value < -4000, 10);
  const full = { ...battery(s), ess: ess() };
  await setHz(50.6);
  const trace: string[] = [];
  const curtailIn = await settle(
    'the battery at its limit, PV curtailed, the grid imports 2 kW',
    () => {
      trace.push(`grid ${Math.round(s.grid().total)} ess ${Math.round(ess())} pv ${Math.round(pv())} limit ${Math.round(e.system.pvLimitW)}`);
      // At the battery's limit the droop and self-consumption share the last few hundred watts between the
      // battery and PV cycle by cycle (seen: the battery 5.78-5.90 kW, PV 3.98-4.15 kW, the grid within 100 W).
      return near(s.grid().total, 2000, 200) && ess() < -5600 && pv() < 4400;
    },
    15,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last readings: ${trace.slice(-12).join(' | ')}`);
  });
  const curtailed = { ...battery(s), grid: s.grid().total, ess: ess(), pv: pv(), limit: e.system.pvLimitW };
  t.diagnostic(trace.join(' | '));
  assert.ok(curtailed.ess >= -6000 - 1, `inside the battery limit: ${Math.round(curtailed.ess)} W`);
  const needed = 2000 - (6000 + full.ess); // what the battery could not take
  assert.ok(
    near(4500 - curtailed.pv, needed, 250),
    `PV curtailed by ${Math.round(4500 - curtailed.pv)} W, about the ${Math.round(needed)} W the battery could not take`,
  );
  await setHz(50);
  const releasedIn = await settle('PV released, the grid back at 0', () => battery(s).offset === 0 && near(s.grid().total, 0, 150) && pv() > 4450, 10);
  const alarms = s.sys.alarms.store.list({ state: 'open' }).map((a) => `${a.rule} ${a.message}`);
  assert.ok(!alarms.some((a) => /control_dispatch/.test(a)), `no dispatch failure: ${alarms.join('; ')}`);
  t.diagnostic(
    `49.7 Hz: offset ${Math.round(under.offset)} W on self ${Math.round(under.self)} W, battery ${Math.round(under.ess)} W, grid ${Math.round(under.grid)} W (${underIn} cycles); ` +
      `50 Hz: back in ${backIn} cycles; 50.3 Hz with 3 kW PV: offset ${Math.round(over.offset)} W, battery ${Math.round(over.ess)} W (${Math.round(sunny.ess)} W before), grid ${Math.round(over.grid)} W, PV ${Math.round(over.pv)} W (${overIn} cycles); 50 Hz: back in ${endIn} cycles; ` +
      `50.6 Hz with 4.5 kW PV (battery ${Math.round(full.ess)} W before): battery ${Math.round(curtailed.ess)} W, PV ${Math.round(curtailed.pv)} W (limit ${Math.round(curtailed.limit)} W), grid ${Math.round(curtailed.grid)} W (${curtailIn} cycles); 50 Hz: PV released in ${releasedIn} cycles`,
  );
});

test('the fault API sets the grid frequency, validated (45-55 Hz, errors name the field); a scripted excursion; the island keeps its own frequency', async (t) => {
  const clock = manualClock(Date.UTC(2026, 2, 10, 9, 0));
  const sim: SimulatorHandle = await startSimulator({
    seed: 2,
    customers: 3,
    clock,
    utcOffsetHours: 3,
    energy: { spec: { battery: DEFAULT_BATTERY, inverter: DEFAULT_INVERTER, pv: DEFAULT_PV, generator: DEFAULT_GENERATOR } },
  });
  t.after(() => sim.close());
  const e = sim.energy;
  assert.ok(e);
  const dtsu = loadProfiles().get('DTSU666') ?? assert.fail('no DTSU666 profile');
  const bus = new ModbusBus(busSchema.parse({ id: 'inv', transport: 'tcp', host: sim.host, port: e.mbapPort, timeoutMs: 1000 }), clock);
  t.after(() => bus.close());
  /** The grid meter's (address 3, the PCC) Frequency register over Modbus TCP. */
  const pccHz = async (): Promise<number> => {
    const block = planBlocks(dtsu).find((b) => b.points.some((p) => p.channel === 'Frequency')) ?? assert.fail('no block with Frequency');
    const v = decodeBlock(block, await bus.readRegisters(3, dtsu.functionCode, block.start, block.count), { ...DEFAULT_SCALING, wordOrder: dtsu.wordOrder });
    return v.Frequency ?? NaN;
  };
  const step = (ms: number): void => {
    clock.advance(ms);
    sim.model.update();
  };
  // Nominal: 50 Hz with a slow wander of about 40 mHz.
  const nominal = await pccHz();
  assert.ok(Math.abs(nominal - 50) <= 0.05, `nominal: ${nominal} Hz`);
  e.setGridFrequency(49.7);
  assert.ok(Math.abs((await pccHz()) - 49.7) < 0.005, 'pinned at 49.7 Hz');
  // A scripted excursion: 50 -> 49.6 Hz over 10 s, held 20 s, back to 50 Hz at 40 s.
  e.setFrequencyExcursion([
    { afterMs: 0, hz: 50 },
    { afterMs: 10_000, hz: 49.6 },
    { afterMs: 30_000, hz: 49.6 },
    { afterMs: 40_000, hz: 50 },
  ]);
  const seen: number[] = [];
  let at = 0;
  for (const next of [0, 5_000, 10_000, 20_000, 35_000, 40_000, 60_000]) {
    step(next - at);
    at = next;
    seen.push(Math.round((await pccHz()) * 100) / 100);
  }
  assert.deepEqual(seen, [50, 49.8, 49.6, 49.6, 49.8, 50, 50]);
  // Islanded: the PCC meter reads a dead grid, the site runs at the grid-forming inverter's 50 Hz whatever the
  // utility's frequency was, and the island's frequency can be set.
  e.setGridFrequency(49.2);
  e.setGridConnected(false);
  assert.equal(await pccHz(), 0, 'the PCC meter sees no grid');
  assert.equal(sim.model.meterValues(sim.model.mainId)?.Frequency, 50, 'the island runs at 50 Hz');
  e.setIslandFrequency(50.4);
  assert.equal(sim.model.frequencyHz, 50.4);
  e.setIslandFrequency(null);
  e.setGridConnected(true);
  assert.ok(Math.abs((await pccHz()) - 49.2) < 0.005, 'the utility is still at 49.2 Hz when it returns');
});

test('the fault API: frequencyHz over HTTP, bounded 45..55 and named in the errors; the existing fields unchanged', async (t) => {
  const s = await startControlSite({ control: { assets: ASSETS, controllers: [{ kind: 'passive', id: 'watch' }], safety: SAFETY } });
  t.after(() => s.close());
  const ok = await s.call('POST', '/api/sim/energy/fault', { frequencyHz: 50.2, pv: { L1: 500 } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, { gridConnected: true, emergencyStop: false, pvAvailableW: { L1: 500, L2: 0, L3: 0 }, frequencyHz: 50.2 });
  await until('the grid meter reads 50.2 Hz over Modbus', () => Math.abs((s.sys.site.image.get('grid', 'Frequency')?.value ?? 0) - 50.2) < 0.005, 10_000);
  for (const [bad, field] of [
    [{ frequencyHz: 44.9 }, 'frequencyHz'],
    [{ frequencyHz: 55.1 }, 'frequencyHz'],
    [{ frequencyHz: '50' }, 'frequencyHz'],
    [{ islandFrequencyHz: 60 }, 'islandFrequencyHz'],
    [{ frequencyExcursion: [] }, 'frequencyExcursion'],
    [
      {
        frequencyExcursion: [
          { afterS: 5, hz: 49.8 },
          { afterS: 1, hz: 50 },
        ],
      },
      'frequencyExcursion',
    ],
    [{ frequencyExcursion: [{ afterS: 0, hz: 40 }] }, 'frequencyExcursion'],
    [{ frequencyHz: 50, frequencyExcursion: [{ afterS: 0, hz: 49.8 }] }, 'frequencyExcursion'],
  ] as const) {
    const r = await s.call('POST', '/api/sim/energy/fault', bad);
    assert.equal(r.status, 400, `${JSON.stringify(bad)} -> ${r.status} ${r.text}`);
    assert.match(r.text, new RegExp(field), `the error names ${field}: ${r.text}`);
  }
  const excursion = await s.call('POST', '/api/sim/energy/fault', {
    frequencyExcursion: [
      { afterS: 0, hz: 49.8 },
      { afterS: 600, hz: 49.8 },
    ],
  });
  assert.equal(excursion.status, 200, excursion.text);
  assert.equal(excursion.json.frequencyHz, 49.8);
});

const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? (v[m] ?? NaN) : ((v[m - 1] ?? NaN) + (v[m] ?? NaN)) / 2;
};

// The demo's own controllers (self-consumption, per-phase zero export with its PV probe, backup reserve, the
// generator, droop). Zero export bounds the battery from its measured power and the grid, and both carry the
// offset the droop added last cycle: a bound counted from them counted the response twice whenever it bound
// (the PV probe every ~8 s): the grid went to +2.1 kW for a 1 kW response. The bounds are now planned without
// the offset (assets.ts batteryOffset; controllers-droop-bounds.test.ts has the pure case).
// Tolerances: self-consumption holds each phase within its 25 W deadband (75 W in total) and zero export keeps
// 50 W of import a phase, so a window's median moves by the response within 100 W. Zero export's probe of the
// held-back PV (PV makes 3.6 kW of its 4.5 kW rating, so it may be held) charges its step (500 W) more for a cycle
// when the sun does not take it up, at 50 Hz as at 50.3 Hz: no single cycle goes beyond the response, that step
// and 150 W; counting the response twice is 1 kW beyond it.
test("demo: the demo's control section runs frequency droop; over-frequency makes the battery charge 1 kW more through the demo's own controllers", async (t) => {
  const demo = demoConfig(tmpdir()).control;
  assert.ok(demo);
  assert.ok(
    demo.controllers.some((c) => c.kind === 'frequency-droop'),
    'the demo runs frequency droop',
  );
  const s = await startControlSite({
    control: { devices: demo.devices, assets: demo.assets, controllers: demo.controllers, safety: demo.safety, autonomy: demo.autonomy },
    energy: { generatorW: 8000 },
    pv: { L1: 1200, L2: 1200, L3: 1200 },
  });
  t.after(() => s.close());
  const e = s.sys.sim?.energy;
  assert.ok(e);
  const sum = (w: { L1: number; L2: number; L3: number }): number => w.L1 + w.L2 + w.L3;
  /** Grid, battery and PV of the physics, and the droop's offset in the cycle's decision, once a cycle for `n` cycles. */
  const window = async (n: number): Promise<Array<{ grid: number; ess: number; pv: number; offset: number }>> => {
    const out: Array<{ grid: number; ess: number; pv: number; offset: number }> = [];
    for (let i = 0; i < n; i++) {
      await cyclesPass(s, 1);
      const snap = e.system.snapshot();
      out.push({ grid: s.grid().total, ess: sum(snap.essW), pv: sum(snap.pvW), offset: battery(s).offset });
    }
    return out;
  };
  const text = (w: ReadonlyArray<{ grid: number; ess: number; pv: number }>): string =>
    w.map((x) => `${Math.round(x.grid)}/${Math.round(x.ess)}/${Math.round(x.pv)}`).join(' ');
  await until('the cycle steers with good data', () => s.cycles() >= 4 && (s.sys.control?.status().safe as unknown[]).length === 0);
  // Zero export starts with PV held and releases it step by step: the 50 Hz window starts once PV makes what the
  // sun gives (3.6 kW, less the simulator's noise) and the battery stores it.
  await until(
    'PV released and the surplus stored, the grid near 0',
    () => sum(e.system.snapshot().pvW) > 3450 && near(s.grid().total, 0, 250) && sum(e.system.snapshot().essW) < -3000,
    30_000,
  );
  await cyclesPass(s, 3);
  // 12 cycles: longer than zero export's longest probe back-off (8 s), so a probe is in each window.
  const at50 = await window(12);
  assert.ok(
    at50.every((x) => x.offset === 0),
    'no droop at 50 Hz',
  );
  const base = { grid: median(at50.map((x) => x.grid)), ess: median(at50.map((x) => x.ess)), pv: median(at50.map((x) => x.pv)) };
  assert.ok(base.ess < -1500, `the battery stores the surplus at 50 Hz: ${Math.round(base.ess)} W`);

  const r = await s.call('POST', '/api/sim/energy/fault', { frequencyHz: 50.3 });
  assert.equal(r.status, 200, r.text);
  const from = s.cycles();
  await until(
    'the battery charges 1 kW more, the grid imports it',
    () => near(battery(s).offset, -1000, 1) && near(s.grid().total, base.grid + 1000, 100),
    15_000,
  );
  const took = s.cycles() - from;
  assert.ok(took <= 8, `the response within 8 cycles (took ${took})`);
  await cyclesPass(s, 2);
  const at503 = await window(12);
  const over = { grid: median(at503.map((x) => x.grid)), ess: median(at503.map((x) => x.ess)), pv: median(at503.map((x) => x.pv)) };
  t.diagnostic(
    `demo, medians of 12 cycles: 50 Hz grid ${Math.round(base.grid)} W, battery ${Math.round(base.ess)} W, PV ${Math.round(base.pv)} W; ` +
      `50.3 Hz grid ${Math.round(over.grid)} W, battery ${Math.round(over.ess)} W, PV ${Math.round(over.pv)} W (settled in ${took} cycles); ` +
      `grid/battery/PV each cycle at 50 Hz: ${text(at50)}; at 50.3 Hz: ${text(at503)}`,
  );
  assert.ok(
    at503.every((x) => near(x.offset, -1000, 1)),
    `the droop's offset is -1000 W every cycle: ${at503.map((x) => Math.round(x.offset)).join(' ')}`,
  );
  assert.ok(near(over.grid - base.grid, 1000, 100), `the grid imports the 1 kW response more: ${Math.round(over.grid - base.grid)} W`);
  assert.ok(near(over.ess - base.ess, -1000, 100), `the battery charges 1 kW more: ${Math.round(base.ess - over.ess)} W`);
  assert.ok(
    near(over.pv, base.pv, 100),
    `PV is not curtailed while the battery takes the response: ${Math.round(over.pv)} W (${Math.round(base.pv)} W at 50 Hz)`,
  );
  assert.ok(over.ess >= -6000, 'inside the battery limit');
  const worst = Math.max(...at503.map((x) => x.grid));
  assert.ok(worst <= base.grid + 1000 + 500 + 150, `no cycle over-shoots beyond the response and one probe step: ${Math.round(worst)} W`);
  const steady = at503.filter((x) => near(x.grid, base.grid + 1000, 150)).length;
  assert.ok(steady >= 9, `the grid at the response within 150 W in ${steady} of 12 cycles (the others: zero export's probe)`);

  // Back to 50 Hz: the offset goes away and the grid returns to where it was.
  const back = await s.call('POST', '/api/sim/energy/fault', { frequencyHz: 50 });
  assert.equal(back.status, 200, back.text);
  await until('the offset is gone and the grid is back', () => battery(s).offset === 0 && near(s.grid().total, base.grid, 150), 15_000);
});
