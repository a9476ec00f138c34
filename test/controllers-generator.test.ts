import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, Generator } from '../src/edge/capabilities.js';
import { controlConfigSchema, controllerConfigSchema } from '../src/edge/control-config.js';
import { planControl } from '../src/edge/control-plan.js';
import { generatorControl, GENERATOR_START, type GeneratorConfig, type GeneratorState } from '../src/controllers/generator.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

/**
 * The generator controller (issue 10): pure, on table-driven sequences of snapshots. Each step gives
 * the time (s after T0), the grid frequency (0 = outage), the SoC, the load, whether the generator runs,
 * and what the controller must then want: the generator on or off, and the command it proposes.
 */
const gen: Generator = { kind: 'generator', component: 'gen0', ratedW: 8_000 };
const bat: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 6_000, maxDischargeW: 6_000 };
const CFG: GeneratorConfig = {
  id: 'gen',
  generator: gen,
  battery: bat,
  frequencyChannel: 'grid/Frequency',
  // The load is what the grid, battery and generator deliver; PV is left out to keep the rows short.
  loadChannels: ['grid/ActivePower', 'ess0/ActivePower', 'gen0/ActivePower'],
  inverterCapacityW: 6_000,
  startSocPct: 35,
  stopSocPct: 80,
  minRunMs: 15 * 60_000,
  minOffMs: 5 * 60_000,
  confirmMs: 10_000,
};

/** [t s, grid Hz, SoC %, load W, gen running 0/1, wanted on, proposed value or null, detail matches]. */
type Step = readonly [number, number, number | null, number | null, 0 | 1, boolean, 0 | 1 | null, RegExp?];

interface Case {
  readonly name: string;
  readonly cfg?: Partial<GeneratorConfig>;
  readonly steps: readonly Step[];
}

const M = 60; // s per minute

const cases: readonly Case[] = [
  {
    name: 'on grid, a low SoC and an overload start nothing',
    steps: [
      [0, 50, 20, 9_000, 0, false, null, /^not needed$/],
      [30, 50, 20, 9_000, 0, false, null],
    ],
  },
  {
    name: 'outage with a low SoC: starts after the confirmation time, runs at least 15 min, stops above the stop SoC',
    steps: [
      [0, 0, 34, 2_000, 0, false, null, /outage: battery SoC 34 % below 35 %; confirming for 10 s/],
      [5, 0, 34, 2_000, 0, false, null],
      [10, 0, 33.9, 2_000, 0, true, 1, /^start wanted since 2026-04-07T07:00:10.000Z \(outage: battery SoC 33.9 % below 35 %\)$/],
      [11, 0, 40, 2_000, 1, true, 1],
      // The SoC is above the stop threshold soon (a generous charger), but the minimum run holds it on.
      [5 * M, 0, 81, 2_000, 1, true, 1, /keeps running until its minimum run of 15 min ends/],
      [15 * M + 10, 0, 81, 2_000, 1, false, 0, /^stop wanted since .* \(battery SoC 81 % at or above 80 % and load 2000 W within 4800 W\)$/],
      // Still running (people on site at L1 have not stopped it): the stop is asked again.
      [15 * M + 20, 0, 81, 2_000, 1, false, 0],
      [15 * M + 30, 0, 81, 2_000, 0, false, null],
    ],
  },
  {
    name: 'hysteresis: between the start and stop SoC nothing changes either way',
    steps: [
      [0, 0, 30, 1_000, 0, false, null],
      [10, 0, 30, 1_000, 0, true, 1],
      [20 * M, 0, 60, 1_000, 1, true, 1, /start wanted/],
      [40 * M, 0, 79.9, 1_000, 1, true, 1],
      [41 * M, 0, 80, 1_000, 1, false, 0],
      // Falling again to 50 %: no restart above the start threshold.
      [60 * M, 0, 50, 1_000, 0, false, null],
    ],
  },
  {
    name: 'outage with the load above the inverter: starts, stops only when the load is back under 80 % and the SoC above the stop',
    steps: [
      [0, 0, 90, 6_500, 0, false, null, /load 6500 W above the 6000 W the inverter carries/],
      [10, 0, 90, 6_500, 0, true, 1],
      [16 * M, 0, 90, 5_000, 1, true, 1],
      [17 * M, 0, 90, 4_800, 1, false, 0],
    ],
  },
  {
    name: 'a load spike shorter than the confirmation time starts nothing',
    steps: [
      [0, 0, 90, 7_000, 0, false, null],
      [5, 0, 90, 3_000, 0, false, null],
      [12, 0, 90, 7_000, 0, false, null, /confirming/],
      [21, 0, 90, 7_000, 0, false, null],
      [22, 0, 90, 7_000, 0, true, 1],
    ],
  },
  {
    name: 'the grid returns: stops once the minimum run is over; a new outage soon after waits the minimum off time',
    steps: [
      [0, 0, 20, 2_000, 0, false, null],
      [10, 0, 20, 2_000, 0, true, 1],
      [5 * M, 50, 20, 2_000, 1, true, 1, /the grid is back, but it keeps running/],
      [15 * M + 10, 50, 22, 2_000, 1, false, 0, /stop wanted since .* \(the grid is back\)/],
      [16 * M, 0, 22, 2_000, 0, false, null, /stopped only 50 s ago \(minimum off 300 s\)/],
      [20 * M + 10, 0, 22, 2_000, 0, false, null, /confirming/],
      [20 * M + 20, 0, 22, 2_000, 0, true, 1],
    ],
  },
  {
    name: 'unreadable SoC and load start nothing (failed, with why); a running generator keeps running',
    steps: [
      [0, 0, null, null, 0, false, null, /inputs: ess0\/Soc unreadable; load unreadable/],
      [10, 0, 20, 1_000, 0, false, null],
      [20, 0, 20, 1_000, 0, true, 1],
      [16 * M, 0, null, null, 1, true, 1, /inputs: ess0\/Soc unreadable/],
    ],
  },
  {
    name: 'an off-grid site (no grid meter) is always in an outage',
    cfg: { frequencyChannel: undefined, loadChannels: ['ess0/ActivePower', 'gen0/ActivePower'] },
    steps: [
      [0, 50, 30, 1_000, 0, false, null, /off grid: battery SoC 30 % below 35 %/],
      [10, 50, 30, 1_000, 0, true, 1],
    ],
  },
];

for (const c of cases) {
  test(`generator: ${c.name}`, () => {
    const cfg = { ...CFG, ...c.cfg };
    let st: GeneratorState = GENERATOR_START;
    for (const [i, [t, hz, soc, load, running, wantOn, proposed, detail]] of c.steps.entries()) {
      const now = T0 + t * 1000;
      const values: Record<string, number> = { 'grid/Frequency': hz, 'gen0/Running': running };
      if (soc !== null) values['ess0/Soc'] = soc;
      if (load !== null) {
        // The generator carries the load while it runs, the battery otherwise (grid 0 in an outage).
        values['grid/ActivePower'] = hz > 0 ? load : 0;
        values['ess0/ActivePower'] = hz > 0 || running ? 0 : load;
        values['gen0/ActivePower'] = hz === 0 && running ? load : 0;
      }
      const r = generatorControl(snap(now, values), cfg, st, now);
      st = r.state;
      const where = `${c.name}, step ${i} (t ${t} s)`;
      assert.equal(st.on, wantOn, `${where}: on`);
      const p = r.proposals.find((x) => x.target === 'gen0/SetRunning');
      assert.equal(p && p.kind === 'target' ? p.value : null, proposed, `${where}: proposal ${JSON.stringify(r.proposals)}`);
      if (p) assert.equal(p.criticality, 'supply-quality');
      const text = r.status.state === 'ok' ? r.status.detail : r.status.reason;
      if (detail) assert.match(text, detail, where);
      if (soc === null && proposed === null) assert.equal(r.status.state, 'failed', `${where}: unreadable inputs are a failure, not Ok`);
    }
  });
}

test('generator: the site file refuses a stop SoC not above the start, and the plan names a missing generator', () => {
  const bad = controllerConfigSchema.safeParse({ kind: 'generator', id: 'gen', startSocPct: 50, stopSocPct: 40 });
  assert.ok(!bad.success);
  assert.match(bad.error.issues[0]?.message ?? '', /stopSocPct must be above startSocPct/);
  assert.deepEqual(bad.error.issues[0]?.path, ['stopSocPct']);
  const cfg = controlConfigSchema.parse({
    assets: [
      { type: 'grid-meter', component: 'grid' },
      { type: 'battery', component: 'ess0', control: 'setpoint', maxChargeW: 6000, maxDischargeW: 6000 },
    ],
    controllers: [{ kind: 'generator', id: 'gen', startSocPct: 35, stopSocPct: 80 }],
  });
  const plan = planControl(cfg, { timeZone: 'Africa/Kampala' });
  assert.ok(!plan.ok);
  assert.match(plan.problems.join('\n'), /control\.controllers\.0 \(gen\): needs a generator asset; generators: none/);
  const good = planControl(
    controlConfigSchema.parse({
      ...cfg,
      assets: [...cfg.assets, { type: 'generator', component: 'gen0', ratedW: 8000 }],
    }),
    { timeZone: 'Africa/Kampala' },
  );
  assert.ok(good.ok);
  const g = good.plan.controllers.find((x) => x.id === 'gen');
  assert.ok(g);
  assert.equal(g.criticality, 'supply-quality');
  assert.deepEqual(g.assets, ['gen0']);
  assert.equal(g.config['inverterCapacityW'], 6000, 'the battery inverter carries what it may discharge');
  assert.deepEqual(g.config['loadChannels'], ['grid/ActivePower', 'ess0/ActivePower', 'gen0/ActivePower']);
});
