import { test } from 'node:test';
import assert from 'node:assert/strict';
import { command, type Battery, type GridMeter, type Phase, type PvInverter } from '../src/edge/capabilities.js';
import { resolve } from '../src/edge/resolver.js';
import { NIGHT_START, pvNight, type NightConfig, type NightState } from '../src/controllers/pv-night.js';
import { zeroExport, ZERO_EXPORT_START, type ZeroExportConfig, type ZeroExportState } from '../src/controllers/zero-export.js';
import { selfConsumption, SELF_CONSUMPTION_START, type SelfConsumptionState } from '../src/controllers/self-consumption.js';
import { mulberry32 } from '../src/sim/prng.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// Zero export keeps PV from staying needlessly curtailed by probing (raising the limit a step while the
// battery charges as much more, planRelease); at night there is nothing to find, so it neither probes nor
// moves the PV limit (src/controllers/pv-night.ts). T0 is 10:00 in Kampala (UTC+3).

const PH: readonly Phase[] = ['L1', 'L2', 'L3'];
const MIN = 60_000;
const KAMPALA = 'Africa/Kampala';

test('night states: measured dark needs time and proof; solar time decides at once; the first production ends it; the held limit does not move', () => {
  const cfg: NightConfig = { darkW: 20, afterMs: 10 * MIN, watchW: 500 };
  const base = { probeFailed: false, timeZone: KAMPALA, baseWatchW: 500 };
  // [minutes after T0, PV W, limit read back, a probe failed, expected night, expected hold, what]
  const steps: Array<[number, number, number | undefined, boolean, boolean, number | null, string]> = [
    [0, 5, 0, false, false, null, 'dark starts'],
    [9, 5, 0, true, false, null, 'dark for 9 min: not yet'],
    [10, 5, 0, false, false, null, 'dark for 10 min, limit at 0 and no failed probe: could be the limit, not night'],
    [11, 5, 0, true, true, 500, 'a probe PV did not take up: night, limit held at the 500 W watch level'],
    [12, 0, 700, false, true, 500, 'the held level does not follow the read-back'],
    [30, 25, 500, false, false, null, 'PV produces 25 W: day again'],
    [31, 5, 2_000, false, false, null, 'dark again: the count starts over'],
    [41, 5, 2_000, false, true, 2_000, 'dark 10 min with a 2 kW limit letting light through: night, held at 2 kW'],
  ];
  let st: NightState = NIGHT_START;
  for (const [m, pvW, limitW, probeFailed, night, hold, what] of steps) {
    const r = pvNight(st, { ...base, pvW, limitW, probeFailed, nowMs: T0 + m * MIN }, cfg);
    st = r.state;
    assert.equal(st.night, night, `${m} min: ${what}`);
    assert.equal(st.holdW, hold, `${m} min: ${what} (hold)`);
  }
  // Solar time: 22:00 local is outside 06:30-18:30, night from the first dark reading; PV produced says otherwise.
  const late = T0 + 12 * 60 * MIN;
  const solar = { ...cfg, daylight: { from: '06:30', to: '18:30' } };
  const dark = pvNight(NIGHT_START, { ...base, pvW: 0, limitW: 0, nowMs: late }, solar);
  assert.equal(dark.state.night, true);
  assert.match(dark.why ?? '', /solar time \(outside 06:30-18:30\)/);
  assert.equal(pvNight(NIGHT_START, { ...base, pvW: 300, limitW: 9_000, nowMs: late }, solar).state.night, false, 'measured PV wins over a wrong window');
  assert.equal(pvNight(NIGHT_START, { ...base, pvW: 0, limitW: 0, nowMs: T0 }, solar).state.night, false, '10:00 is daylight: measured rules');
});

interface NightRun {
  /** Release steps (probes) proposed, before and after `splitMs`. */
  probes: { before: number; after: number };
  /** Changes of the PV limit beyond 10 W (writes a dispatcher would make), before and after `splitMs`. */
  limitChanges: { before: number; after: number };
  /** Share of the sun's energy PV delivered from the dawn on (when a dawn is given). */
  dawnShare: number;
  worstExportW: number;
  lastDetail: string;
}

/**
 * A site at 1 s cycles: per-phase grid meter, symmetric battery (instant), one PV inverter whose limit is
 * shared in proportion to each phase's array; load 400/300/500 W with +-20 W of noise per cycle. PV is
 * curtailed to 0 at the start (after an afternoon of zero export). Zero export and self-consumption are
 * resolved together as in the cycle.
 */
function runNight(o: {
  minutes: number;
  startMs: number;
  splitMs: number;
  dawnAtMs?: number;
  /** How long the sun takes from nothing to full (ms); 0 = at once. */
  dawnRampMs?: number;
  config?: Partial<ZeroExportConfig>;
}): NightRun {
  const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
  const battery: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5_000, maxDischargeW: 5_000 };
  const pv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 9_000 };
  const zcfg: ZeroExportConfig = { id: 'zero', grid, battery, pv, timeZone: KAMPALA, night: { afterMs: 10 * MIN }, ...o.config };
  const rng = mulberry32(11);
  const load = { L1: 400, L2: 300, L3: 500 };
  const sun = { L1: 700, L2: 700, L3: 600 };
  let limit = 0;
  let batW = 0;
  let zs: ZeroExportState = ZERO_EXPORT_START;
  let ss: SelfConsumptionState = SELF_CONSUMPTION_START;
  const out: NightRun = { probes: { before: 0, after: 0 }, limitChanges: { before: 0, after: 0 }, dawnShare: NaN, worstExportW: 0, lastDetail: '' };
  let sunWh = 0;
  let pvWh = 0;
  for (let i = 0; i < o.minutes * 60; i++) {
    const now = o.startMs + i * 1_000;
    const dawn = o.dawnAtMs !== undefined && now >= o.dawnAtMs;
    const rise = dawn ? Math.min(1, (now - (o.dawnAtMs ?? 0)) / Math.max(1, o.dawnRampMs ?? 0)) : 0;
    const avail = (p: Phase): number => sun[p] * rise;
    const availTotal = PH.reduce((n, p) => n + avail(p), 0);
    const pvW = (p: Phase): number => (availTotal > limit ? (avail(p) * Math.max(0, limit)) / availTotal : avail(p));
    const ld = (p: Phase): number => load[p] + (rng() - 0.5) * 40;
    const g = Object.fromEntries(PH.map((p) => [p, ld(p) - pvW(p) - batW / 3])) as Record<Phase, number>;
    for (const p of PH) if (o.dawnAtMs !== undefined && now >= o.dawnAtMs) out.worstExportW = Math.max(out.worstExportW, -g[p]);
    const pvTotal = PH.reduce((n, p) => n + pvW(p), 0);
    if (dawn) {
      sunWh += availTotal / 3_600;
      pvWh += pvTotal / 3_600;
      out.dawnShare = pvWh / sunWh;
    }
    const s = snap(now, {
      'grid/ActivePower': g.L1 + g.L2 + g.L3,
      'grid/ActivePower_L1': g.L1,
      'grid/ActivePower_L2': g.L2,
      'grid/ActivePower_L3': g.L3,
      'ess0/ActivePower': batW,
      'ess0/Soc': 50,
      'pv0/ActivePower': pvTotal,
      'pv0/ActivePowerLimit': limit,
    });
    const z = zeroExport(s, zcfg, zs, now);
    const sc = selfConsumption(s, { id: 'self', grid, battery }, ss, now);
    zs = z.state;
    ss = sc.state;
    const key = now < o.splitMs ? 'before' : 'after';
    if (z.state.stepW > 0) out.probes[key]++;
    const r = resolve([...z.proposals, ...sc.proposals], { [command.pvLimit(pv)]: { neutral: pv.ratedW }, [command.batteryPower(battery)]: { neutral: 0 } });
    const newLimit = r.get(command.pvLimit(pv))?.value ?? pv.ratedW;
    if (Math.abs(newLimit - limit) > 10) out.limitChanges[key]++;
    limit = newLimit;
    batW = r.get(command.batteryPower(battery))?.value ?? 0;
    out.lastDetail = z.status.state === 'ok' ? z.status.detail : z.status.reason;
  }
  return out;
}

test('zero export at night, measured: probes while it cannot tell, then none and a still PV limit for the rest of the night; the dawn ends it', (t) => {
  // 21:00 local: no daylight configured, so night is measured (10 min of dark with failed probes).
  const start = T0 + 11 * 60 * MIN;
  // The sun rises from nothing to 2 kW over 10 minutes.
  const r = runNight({ minutes: 55, startMs: start, splitMs: start + 12 * MIN, dawnAtMs: start + 40 * MIN, dawnRampMs: 10 * MIN });
  assert.ok(r.probes.before > 20, `before night is known the curtailed limit is probed (${r.probes.before} probes in 12 min)`);
  assert.ok(r.limitChanges.before > 20, `and the limit moves (${r.limitChanges.before} changes)`);
  // After 12 min, through 28 min of night: no probe, and the only limit changes are at dawn (night ends, PV released).
  const night = runNight({ minutes: 39, startMs: start, splitMs: start + 12 * MIN });
  assert.equal(night.probes.after, 0, 'no probe at night');
  assert.equal(night.limitChanges.after, 0, 'the PV limit is not rewritten at night');
  assert.match(night.lastDetail, /night: PV under 20 W since .*; PV limit held at 500 W, no probing/);
  t.diagnostic(
    `first 12 min: ${r.probes.before} probes, ${r.limitChanges.before} limit changes; next 27 min: ${night.probes.after} probes, ${night.limitChanges.after} changes; dawn: PV ${(r.dawnShare * 100).toFixed(1)} % of the sun, worst export ${Math.round(r.worstExportW)} W`,
  );
  assert.ok(r.dawnShare > 0.95, `from dawn on, PV delivers ${(r.dawnShare * 100).toFixed(1)} % of what the sun gives`);
  assert.ok(r.worstExportW < 60, `no phase exports more than 60 W at dawn (worst ${Math.round(r.worstExportW)} W)`);
});

test('zero export at night by solar time: outside the daylight hours nothing is probed from the first cycle', () => {
  const start = T0 + 12 * 60 * MIN; // 22:00 local
  const r = runNight({ minutes: 20, startMs: start, splitMs: start, config: { night: { daylight: { from: '06:30', to: '18:30' } } } });
  assert.equal(r.probes.after, 0, 'no probe');
  assert.ok(r.limitChanges.after <= 1, `at most the one write that sets the watch level (${r.limitChanges.after})`);
  assert.match(r.lastDetail, /night by solar time/);
  // The same site at 10:00, the sun simply not there yet (a dark morning): it probes, as it cannot know.
  const day = runNight({ minutes: 5, startMs: T0, splitMs: T0, config: { night: { daylight: { from: '06:30', to: '18:30' } } } });
  assert.ok(day.probes.after > 5, `by day a curtailed limit is probed (${day.probes.after} probes in 5 min)`);
});
