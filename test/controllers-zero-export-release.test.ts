import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, GridMeter, Phase, PvInverter } from '../src/edge/capabilities.js';
import { resolve, type VariableSpec } from '../src/edge/resolver.js';
import { planRelease, zeroExport, ZERO_EXPORT_START, type ZeroExportState } from '../src/controllers/zero-export.js';
import { selfConsumption, SELF_CONSUMPTION_START, type SelfConsumptionState } from '../src/controllers/self-consumption.js';
import { gaussian, mulberry32 } from '../src/sim/prng.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// Releasing curtailed PV (src/controllers/zero-export.ts, planRelease): fast, in proportion to the
// battery's headroom, without export, and without pulsing the grid when the sun is not there.

const PH: readonly Phase[] = ['L1', 'L2', 'L3'];
const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const phaseBattery: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: true, phases: 3, maxChargeW: 6_000, maxDischargeW: 6_000 };
const symBattery: Battery = { ...phaseBattery, perPhase: false };
const symPv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 9_000 };
const phasePv: PvInverter = { ...symPv, perPhase: true };

test('planRelease: a quarter of the headroom first, doubling while PV takes it up, capped by the headroom', () => {
  const base = { held: true, headroomW: 6_000, baseStepW: 500, nowMs: T0 };
  const a = planRelease(ZERO_EXPORT_START, { ...base, pvW: 0 });
  assert.equal(a.stepW, 1_500);
  const b = planRelease(a.state, { ...base, pvW: 1_200, nowMs: T0 + 1_000 });
  assert.equal(b.stepW, 3_000, 'PV took up 1.2 of 1.5 kW: the step doubles');
  const c = planRelease(b.state, { ...base, headroomW: 2_000, pvW: 3_600, nowMs: T0 + 2_000 });
  assert.equal(c.stepW, 2_000, 'never more than the battery can take');
  const small = planRelease(ZERO_EXPORT_START, { ...base, headroomW: 1_000, pvW: 0 });
  assert.equal(small.stepW, 500, 'at least the base step (500 W)');
  const none = planRelease(ZERO_EXPORT_START, { ...base, headroomW: 0, pvW: 0 });
  assert.equal(none.stepW, 0, 'a full battery releases nothing (PV only rises into grid room)');
  const notHeld = planRelease(ZERO_EXPORT_START, { ...base, held: false, pvW: 0 });
  assert.equal(notHeld.stepW, 0);
});

test('planRelease: a step the sun did not take up backs off (2 s, then 4 s, up to 8 s), then probes with the base step', () => {
  const base = { held: true, headroomW: 6_000, baseStepW: 500 };
  const a = planRelease(ZERO_EXPORT_START, { ...base, pvW: 2_000, nowMs: T0 });
  assert.equal(a.stepW, 1_500);
  const b = planRelease(a.state, { ...base, pvW: 2_100, nowMs: T0 + 1_000 });
  assert.equal(b.stepW, 0, 'PV rose 100 W of 1.5 kW: no more release');
  assert.equal(b.state.probeAfterMs, T0 + 3_000);
  assert.equal(planRelease(b.state, { ...base, pvW: 2_100, nowMs: T0 + 2_000 }).stepW, 0, 'still backing off');
  const c = planRelease(b.state, { ...base, pvW: 2_100, nowMs: T0 + 3_000 });
  assert.equal(c.stepW, 500, 'a small probe after the back-off');
  const d = planRelease(c.state, { ...base, pvW: 2_100, nowMs: T0 + 7_000 });
  assert.equal(d.state.probeAfterMs, T0 + 11_000, 'the back-off doubles');
  assert.equal(d.stepW, 0);
  const e = planRelease(d.state, { ...base, pvW: 2_100, nowMs: T0 + 11_000 });
  assert.equal(e.stepW, 500, 'after a probe the sun did not take up, the next is the base step');
});

test('zero export: PV still rising towards a limit raised last cycle counts as held, and the next step doubles', () => {
  const st: ZeroExportState = { stepW: 1_500, pvAtStepW: 0, probeAfterMs: 0, backoffMs: 0, lastPvW: { total: 0, L1: 0, L2: 0, L3: 0 } };
  // Last cycle: limit 0 -> 1.5 kW and the battery asked to charge 1.5 kW more; one cycle later both are at ~80 %.
  const s = snap(T0, {
    ...{ 'grid/ActivePower': 150, 'grid/ActivePower_L1': 50, 'grid/ActivePower_L2': 50, 'grid/ActivePower_L3': 50 },
    ...{ 'ess0/Soc': 50, 'ess0/ActivePower': -1_200, 'ess0/ActivePower_L1': -400, 'ess0/ActivePower_L2': -400, 'ess0/ActivePower_L3': -400 },
    ...{ 'pv0/ActivePower': 1_200, 'pv0/ActivePowerLimit': 1_500 },
  });
  const r = zeroExport(s, { id: 'z', grid, battery: phaseBattery, pv: symPv }, st, T0);
  assert.equal(r.status.state, 'ok', JSON.stringify(r.status));
  const res = resolve(r.proposals);
  assert.equal(Math.round(res.get('pv0/ActivePowerLimit')?.interval.max ?? NaN), 4_200, 'measured 1.2 kW + 3 kW');
  for (const p of PH) assert.equal(Math.round(res.get(`ess0/SetActivePower_${p}`)?.interval.max ?? NaN), -1_400, `${p}: measured -400 W, 1 kW more`);
  assert.equal(r.state.stepW, 3_000);
});

/**
 * A per-phase plant: load per phase, PV arrays per phase under one inverter (limit symmetric or per phase),
 * a battery inverter per phase; battery and PV follow their commands with one first-order lag (the
 * simulator's 600 ms time constant), commands arrive 100 ms after the cycle, meters read 10 W noise.
 * Zero export and self-consumption run each cycle, resolved together (PV neutral: its rating).
 */
interface ReleaseRun {
  /** From the sun's return until PV produces within 5 % of what it can usefully give (ms). */
  readonly releaseMs: number;
  /** Worst export on any phase after the step (W, positive = export). */
  readonly worstExportW: number;
  readonly exportedWh: Record<Phase, number>;
  /** Energy the limit held back, from the step on (Wh). */
  readonly curtailedWh: number;
}

/**
 * `lift`: the sun is there all along, PV held at 0 (the safe state) until the controllers start at the step.
 * `cloud`: the controllers run all along; a cloud lets through `cloudShare` of the sun until the step.
 */
function runRelease(o: {
  pv: PvInverter;
  battery: Battery;
  loadW: Record<Phase, number>;
  availW: Record<Phase, number>;
  stepMs?: number;
  scenario: 'lift' | 'cloud';
  cloudShare?: number;
}): ReleaseRun {
  const dt = 10;
  const tau = 600;
  const rng = mulberry32(7);
  const stepAt = 5_000 + (o.stepMs ?? 0);
  const end = 40_000;
  const bat: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
  const pv: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
  const batCmd: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
  let limit: Record<Phase, number> | number = o.pv.perPhase ? { L1: 0, L2: 0, L3: 0 } : 0; // curtailed to 0 (a night, or the safe state)
  let pending: { at: number; bat: Record<Phase, number>; limit: Record<Phase, number> | number } | null = null;
  let zs: ZeroExportState = ZERO_EXPORT_START;
  let ss: SelfConsumptionState = SELF_CONSUMPTION_START;
  let worstExport = 0;
  const exported: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
  let curtailed = 0;
  let releaseMs = Infinity;
  const specs: Record<string, VariableSpec> = o.pv.perPhase
    ? Object.fromEntries(PH.map((p) => [`pv0/ActivePowerLimit_${p}`, { neutral: 3_000 }]))
    : { 'pv0/ActivePowerLimit': { neutral: 9_000 } };
  for (let t = 0; t <= end; t += dt) {
    const share = o.scenario === 'cloud' && t < stepAt ? (o.cloudShare ?? 0.3) : 1;
    const avail = (p: Phase): number => o.availW[p] * share;
    if (pending && t >= pending.at) {
      Object.assign(batCmd, pending.bat);
      limit = pending.limit;
      pending = null;
    }
    const totalAvail = PH.reduce((x, p) => x + avail(p), 0);
    for (const p of PH) {
      const cap =
        typeof limit === 'number' ? (totalAvail > limit ? (avail(p) * Math.max(0, limit)) / totalAvail : avail(p)) : Math.min(avail(p), Math.max(0, limit[p]));
      pv[p] = Math.min(avail(p), pv[p] + (cap - pv[p]) * (1 - Math.exp(-dt / tau)));
      bat[p] += (batCmd[p] - bat[p]) * (1 - Math.exp(-dt / tau));
    }
    const g = (p: Phase): number => o.loadW[p] - pv[p] - bat[p];
    if (t >= stepAt) {
      for (const p of PH) {
        worstExport = Math.max(worstExport, -g(p));
        if (g(p) < 0) exported[p] += (-g(p) * dt) / 3_600_000;
      }
      curtailed += ((totalAvail - PH.reduce((x, p) => x + pv[p], 0)) * dt) / 3_600_000;
      // What PV can usefully give: on each phase its load (less the 50 W margin) plus what the battery can
      // take there (2 kW), never more than the sun; a symmetric limit shares PV equally, so the tightest phase decides.
      const cap = (p: Phase): number => Math.min(o.availW[p], o.loadW[p] - 50 + 2_000);
      const useful = o.pv.perPhase ? PH.reduce((x, p) => x + cap(p), 0) : 3 * Math.min(...PH.map(cap));
      if (releaseMs === Infinity && PH.reduce((x, p) => x + pv[p], 0) >= 0.95 * useful) releaseMs = t - stepAt;
    }
    if (t % 1_000 === 0 && (o.scenario === 'cloud' || t >= stepAt)) {
      const now = T0 + t;
      const n = (): number => 10 * gaussian(rng);
      const v: Record<string, number> = {
        'ess0/Soc': 50,
        'grid/ActivePower': PH.reduce((x, p) => x + g(p), 0) + n(),
        'ess0/ActivePower': PH.reduce((x, p) => x + bat[p], 0),
        'pv0/ActivePower': PH.reduce((x, p) => x + pv[p], 0),
      };
      for (const p of PH) {
        v[`grid/ActivePower_${p}`] = g(p) + n();
        v[`ess0/ActivePower_${p}`] = bat[p];
        v[`pv0/ActivePower_${p}`] = pv[p];
        if (typeof limit !== 'number') v[`pv0/ActivePowerLimit_${p}`] = limit[p];
      }
      if (typeof limit === 'number') v['pv0/ActivePowerLimit'] = limit;
      const s = snap(now, v);
      const z = zeroExport(s, { id: 'zero', grid, battery: o.battery, pv: o.pv }, zs, now);
      const c = selfConsumption(s, { id: 'self', grid, battery: o.battery }, ss, now);
      zs = z.state;
      ss = c.state;
      const res = resolve([...z.proposals, ...c.proposals], specs);
      const perPhaseBattery = o.battery.kind === 'battery-setpoint' && o.battery.perPhase;
      const nextBat = { ...batCmd };
      for (const p of PH) {
        const r = perPhaseBattery ? res.get(`ess0/SetActivePower_${p}`) : res.get('ess0/SetActivePower');
        if (r) nextBat[p] = perPhaseBattery ? r.value : r.value / 3;
      }
      let nextLimit: Record<Phase, number> | number;
      if (typeof limit === 'number') nextLimit = res.get('pv0/ActivePowerLimit')?.value ?? limit;
      else
        nextLimit = {
          L1: res.get('pv0/ActivePowerLimit_L1')?.value ?? limit.L1,
          L2: res.get('pv0/ActivePowerLimit_L2')?.value ?? limit.L2,
          L3: res.get('pv0/ActivePowerLimit_L3')?.value ?? limit.L3,
        };
      pending = { at: t + 100, bat: nextBat, limit: nextLimit };
      if (process.env.RELEASE_DEBUG && t >= stepAt - 1_000 && t <= stepAt + 12_000)
        console.log(
          t,
          JSON.stringify({
            g: PH.map((p) => Math.round(g(p))),
            pv: Math.round(PH.reduce((x, p) => x + pv[p], 0)),
            bat: PH.map((p) => Math.round(bat[p])),
            nextBat: PH.map((p) => Math.round(nextBat[p])),
            nextLimit,
            zs,
            z: z.status,
          }),
        );
    }
  }
  return {
    releaseMs,
    worstExportW: Math.round(worstExport),
    exportedWh: { L1: +exported.L1.toFixed(2), L2: +exported.L2.toFixed(2), L3: +exported.L3.toFixed(2) },
    curtailedWh: +curtailed.toFixed(1),
  };
}

test('curtailed PV comes back within a few cycles after the sun returns, no phase exports more than 50 W (printed)', () => {
  const load = { L1: 800, L2: 300, L3: 400 };
  const rows: string[] = [];
  for (const [name, pv, battery] of [
    ['symmetric PV limit, per-phase battery (the simulated generic ESS)', symPv, phaseBattery],
    ['symmetric PV limit, symmetric battery', symPv, symBattery],
    ['per-phase PV limit, per-phase battery', phasePv, phaseBattery],
  ] as const) {
    const lift = runRelease({ pv, battery, loadW: load, availW: { L1: 2_500, L2: 2_500, L3: 2_500 }, scenario: 'lift' });
    rows.push(
      `${name}, PV held at 0 then released: within 5 % of what it can give in ${(lift.releaseMs / 1000).toFixed(1)} s, curtailed ${lift.curtailedWh} Wh, worst export ${lift.worstExportW} W, exported ${JSON.stringify(lift.exportedWh)} Wh`,
    );
    if (process.env.RELEASE_DEBUG) console.log(name, lift);
    assert.ok(lift.releaseMs <= 5_000, `${name}: PV released in ${lift.releaseMs} ms`);
    assert.ok(lift.worstExportW <= 50, `${name}: worst export ${lift.worstExportW} W`);
    for (const stepMs of [0, 500]) {
      const cloud = runRelease({ pv, battery, loadW: load, availW: { L1: 2_500, L2: 2_500, L3: 2_500 }, scenario: 'cloud', stepMs });
      rows.push(
        `${name}, a cloud (30 % sun) passes +${stepMs} ms into a cycle: back in ${(cloud.releaseMs / 1000).toFixed(1)} s, curtailed ${cloud.curtailedWh} Wh, worst export ${cloud.worstExportW} W`,
      );
      assert.ok(cloud.releaseMs <= 12_000, `${name}: PV back after the cloud in ${cloud.releaseMs} ms`);
      assert.ok(cloud.worstExportW <= 50, `${name}: worst export ${cloud.worstExportW} W`);
    }
  }
  // The sun gives less than the battery could take: the release stops where the sun is.
  const weak = runRelease({ pv: symPv, battery: phaseBattery, loadW: load, availW: { L1: 700, L2: 700, L3: 700 }, scenario: 'lift' });
  rows.push(`weak sun (2.1 kW): back within 5 % in ${(weak.releaseMs / 1000).toFixed(1)} s, worst export ${weak.worstExportW} W`);
  assert.ok(weak.releaseMs <= 5_000 && weak.worstExportW <= 50);
  console.log(rows.map((r) => `  ${r}`).join('\n'));
});
