import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Battery, GridMeter, PvInverter } from '../src/edge/capabilities.js';
import { envelope, type SafetyConfig } from '../src/edge/safety-envelope.js';
import { resolveVariable } from '../src/edge/resolver.js';
import { decideAction, type ActionContext, type ActionRequest } from '../src/governance/actions.js';
import { backupReserve, BACKUP_START } from '../src/controllers/backup-reserve.js';
import { chargeOnly, CHARGE_ONLY_START } from '../src/controllers/charge-only.js';
import { snap, T0 } from './helpers/edge-snapshot.js';

// Why texts, statuses and audit details say watts to the whole W and percentages to 0.1 (issue 10): never a
// float's tail such as "-1456.1260000000002". Only the texts: the values themselves keep their precision.

const UGLY = -1456.1260000000002;
const TAIL = /\d\.\d{2,}/; // more than one decimal anywhere in a text (times are taken out first)
const noTimes = (t: string): string => t.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
const grid: GridMeter = { kind: 'grid-meter', component: 'grid', perPhase: true };
const battery: Battery = { kind: 'battery-setpoint', component: 'ess0', perPhase: false, phases: 3, maxChargeW: 5_000, maxDischargeW: 6_000 };
const pv: PvInverter = { kind: 'pv-limit', component: 'pv0', perPhase: false, phases: 3, ratedW: 10_000 };

const req: ActionRequest = {
  asset: 'ess0',
  capability: 'battery-dispatch',
  target: 'ess0/SetActivePower',
  value: UGLY,
  envelope: { min: -5_000, max: 6_000 },
  limitHit: null,
  inputsPoor: null,
  why: 'self: self-consumption: grid -1456 W, target 0 W',
};
const ctx = (over: Partial<ActionContext>): ActionContext => ({
  level: 'L3',
  escalation: null,
  override: null,
  approval: null,
  proposalTtlMs: 60_000,
  nowMs: T0,
  ...over,
});

const decisions: Array<{ name: string; ctx: ActionContext; req?: Partial<ActionRequest>; want: RegExp; value: number }> = [
  { name: 'L1 recommendation', ctx: ctx({ level: 'L1' }), want: /recommended ess0\/SetActivePower = -1456 for the people on site/, value: UGLY },
  { name: 'L2 proposal', ctx: ctx({ level: 'L2' }), want: /waiting for a person to approve ess0\/SetActivePower = -1456 \(/, value: UGLY },
  { name: 'L3 actuation (audit detail)', ctx: ctx({}), want: /^ess0\/SetActivePower = -1456 \(battery-dispatch/, value: UGLY },
  {
    name: 'an approval limited by safety',
    ctx: ctx({
      level: 'L2',
      approval: { proposalId: 7, by: 'otto', target: 'ess0/SetActivePower', value: -6_000.4999999, atMs: T0, expiresAtMs: T0 + 60_000 },
    }),
    req: { envelope: { min: -5_000.333333, max: 6_000 } },
    want: /limited by safety to -5000 \(approved -6000\)/,
    value: -5_000.333333,
  },
];
for (const c of decisions) {
  test(`texts rounded: decision, ${c.name}`, () => {
    const d = decideAction({ ...req, ...c.req }, c.ctx);
    const text = d.outcome === 'actuate' && c.name.includes('audit') ? d.audit.detail : d.why;
    assert.match(text, c.want);
    assert.doesNotMatch(noTimes(text), TAIL, text);
    assert.equal(d.value, c.value, 'the value itself is not rounded');
  });
}

test('texts rounded: the resolver says what it overruled in whole W', () => {
  const r = resolveVariable('ess0/SetActivePower', [
    { kind: 'bound', target: 'ess0/SetActivePower', max: -1_456.1260000000002, criticality: 'safety', source: 'safety-envelope', why: 'x' },
    { kind: 'bound', target: 'ess0/SetActivePower', min: 333.33333333, criticality: 'optimisation', source: 'peak', why: 'y' },
    { kind: 'target', target: 'ess0/SetActivePower', value: 2_000.00000001, criticality: 'optimisation', source: 'self', why: 'z' },
    { kind: 'target', target: 'ess0/SetActivePower', value: -2_500.55555, criticality: 'optimisation', source: 'other', why: 'w' },
  ]);
  const texts = r.overruled.map((o) => o.by);
  assert.ok(
    texts.some((t) => /asks at least 333, but safety-envelope \(safety\) allows at most -1456$/.test(t)),
    texts.join(' | '),
  );
  for (const t of texts) assert.doesNotMatch(t, TAIL, t);
});

const safety = (over: Partial<SafetyConfig> = {}): SafetyConfig => ({
  grid,
  batteries: [
    { battery, socMinPct: 10, socMaxPct: 95, rampWPerS: 2_000, tempMinC: -10, tempMaxC: 55, chargeTempMinC: 0, cellVoltageMinV: 2.9, cellVoltageMaxV: 3.6 },
  ],
  pv: [{ pv }],
  generators: [],
  exportLimitW: 0,
  maxAgeMs: 3_000,
  ...over,
});
const good = { 'grid/ActivePower': 500, 'ess0/ActivePower': 0, 'pv0/ActivePower': 3_000 };
const envelopes: Array<{ name: string; values: Record<string, number>; last?: Record<string, number>; want: RegExp }> = [
  { name: 'SoC at the top', values: { ...good, 'ess0/Soc': 95.04999999999 }, want: /SoC 95 % >= 95 %: no charging/ },
  { name: 'SoC at the bottom', values: { ...good, 'ess0/Soc': 9.8700000001 }, want: /SoC 9.9 % <= 10 %: no discharging/ },
  { name: 'cold battery', values: { ...good, 'ess0/Soc': 50, 'ess0/BatteryTemperature': -0.3333333 }, want: /-0.3 °C below 0 °C: no charging/ },
  { name: 'cell voltage high', values: { ...good, 'ess0/Soc': 50, 'ess0/CellVoltageMax': 3.60123456 }, want: /cell 3.601 V >= 3.6 V: no charging/ },
  { name: 'ramp from the last command', values: { ...good, 'ess0/Soc': 50 }, last: { 'ess0/SetActivePower': UGLY }, want: /ramp 2000 W\/s from -1456 W/ },
];
for (const c of envelopes) {
  test(`texts rounded: safety envelope, ${c.name}`, () => {
    const env = envelope(snap(T0, c.values), safety(), c.last ?? {}, 1_000, T0);
    const why = env.bounds
      .filter((b) => b.target === 'ess0/SetActivePower')
      .map((b) => b.why)
      .join(' | ');
    assert.match(why, c.want);
    assert.doesNotMatch(why.replace(/cell \d\.\d{3} V/, ''), TAIL, why);
  });
}

test('texts rounded: backup reserve and charge-only say SoC to 0.1 %', () => {
  const b = backupReserve(snap(T0, { 'grid/Frequency': 50, 'ess0/Soc': 29.949999999 }), { id: 'reserve', battery, floorPct: 30 }, BACKUP_START, T0);
  const text = b.status.state === 'ok' ? b.status.detail : b.status.state === 'idle' ? b.status.reason : b.status.reason;
  assert.match(text, /SoC 29.9 % \(floor 30 %, discharge blocked\)/);
  assert.match(b.proposals[0]?.why ?? '', /backup reserve: SoC 29.9 % at or below the 30 % kept for outages/);
  const c = chargeOnly(
    snap(T0, { 'ess0/Soc': 90.123456 }),
    { id: 'charge', battery, socTargetPct: 90, rateW: 2_000, timeZone: 'Africa/Kampala' },
    CHARGE_ONLY_START,
    T0,
  );
  assert.match(c.status.state === 'idle' ? c.status.reason : '', /^SoC 90.1 % has reached the target 90 %/);
});
