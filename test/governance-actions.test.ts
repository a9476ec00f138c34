import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../src/governance/audit-log.js';
import {
  capabilityOfTarget,
  confirmEscalation,
  decideAction,
  DEFAULT_ACTION_AUTONOMY,
  effectiveLevel,
  type Approval,
  type Escalation,
  type Override,
} from '../src/governance/actions.js';
import type { AutonomyLevel } from '../src/governance/types.js';
import { mulberry32, type Rng } from '../src/sim/prng.js';
import { tempDb } from './helpers/temp-db.js';
import { T0 } from './helpers/edge-snapshot.js';

const PEOPLE = ['amina', 'okello'];
const TARGETS = [
  { target: 'ess0/SetActivePower', asset: 'ess0' },
  { target: 'pv0/ActivePowerLimit', asset: 'pv0' },
  { target: 'gen0/SetRunning', asset: 'gen0' },
] as const;

test('governance defaults follow the seed table: battery dispatch L3, generator L1; targets map to capabilities', () => {
  assert.equal(DEFAULT_ACTION_AUTONOMY['battery-dispatch'], 'L3');
  assert.equal(DEFAULT_ACTION_AUTONOMY['generator-operation'], 'L1');
  assert.equal(DEFAULT_ACTION_AUTONOMY['ev-charging'], 'L3');
  assert.equal(capabilityOfTarget('ess0/SetActivePower_L2'), 'battery-dispatch');
  assert.equal(capabilityOfTarget('ess0/OutputPriority'), 'battery-dispatch');
  assert.equal(capabilityOfTarget('pv0/ActivePowerLimit'), 'pv-curtailment');
  assert.equal(capabilityOfTarget('relay3/SetClosed', 'shed'), 'load-shedding');
  assert.equal(capabilityOfTarget('pcc/SetClosed', 'pcc'), 'islanding');
});

interface Actuation {
  readonly t: number;
  readonly target: string;
  readonly value: number;
  readonly authority: string;
  readonly by: string;
  readonly level: AutonomyLevel;
  readonly effective: AutonomyLevel;
  readonly envelope: { min: number; max: number };
  readonly eStop: boolean;
}

/** One random run: proposals every second, people approving and overriding at random, faults and e-stops. */
function runSequence(
  rng: Rng,
  audit: AuditLog,
  levels: Record<string, AutonomyLevel>,
  steps: number,
): { actuations: Actuation[]; approvals: Approval[]; overrides: Override[] } {
  const approvals: Approval[] = [];
  const overrides: Override[] = [];
  const escalation = new Map<string, Escalation | null>();
  const pending = new Map<string, number>();
  const actuations: Actuation[] = [];
  let nextId = 1;
  const person = (): string => PEOPLE[Math.floor(rng() * PEOPLE.length)] ?? 'amina';
  for (let k = 0; k < steps; k++) {
    const now = T0 + k * 1_000;
    const eStop = rng() < 0.05;
    for (const { target, asset } of TARGETS) {
      const level = levels[target] ?? 'L3';
      const capability = capabilityOfTarget(target) ?? 'battery-dispatch';
      const envelope = eStop
        ? { min: 0, max: 0 }
        : target.endsWith('SetRunning')
          ? { min: 0, max: 1 }
          : { min: -Math.round(rng() * 5_000), max: Math.round(rng() * 5_000) };
      const value = Math.round(envelope.min + rng() * (envelope.max - envelope.min));
      // People act at random.
      if (rng() < 0.03) {
        const o: Override = {
          by: person(),
          target,
          value: Math.round((rng() - 0.5) * 20_000),
          untilMs: now + Math.round(rng() * 20_000),
          reason: 'taking over for maintenance',
        };
        overrides.push(o);
        audit.append({ ts: now, actor: o.by, action: 'override', detail: `${target} = ${o.value} until ${o.untilMs}` });
      }
      const pid = pending.get(target);
      if (pid !== undefined && rng() < 0.15) {
        const a: Approval = {
          proposalId: pid,
          by: person(),
          target,
          value: rng() < 0.5 ? value : Math.round((rng() - 0.5) * 20_000),
          atMs: now,
          expiresAtMs: now + Math.round(rng() * 10_000),
        };
        approvals.push(a);
        pending.delete(target);
        audit.append({ ts: now, actor: a.by, action: 'approved', proposalId: pid, detail: `${target} = ${a.value} until ${a.expiresAtMs}` });
      }
      if (escalation.get(target) && rng() < 0.05) {
        const c = confirmEscalation(escalation.get(target) ?? null, person(), now);
        escalation.set(target, c.escalation);
        if (c.audit) audit.append(c.audit);
      }
      const override = [...overrides].reverse().find((o) => o.target === target && now < o.untilMs) ?? null;
      const approval = [...approvals].reverse().find((a) => a.target === target && now < a.expiresAtMs) ?? null;
      const ctx = { level, escalation: escalation.get(target) ?? null, override, approval, proposalTtlMs: 30_000, nowMs: now };
      const d = decideAction(
        {
          asset,
          capability,
          target,
          value,
          envelope,
          limitHit: rng() < 0.05 ? 'SoC floor' : null,
          inputsPoor: rng() < 0.05 ? 'grid meter STALE' : null,
          why: 'random',
        },
        ctx,
      );
      if (d.outcome === 'actuate') {
        actuations.push({ t: now, target, value: d.value, authority: d.authority, by: d.by, level, effective: effectiveLevel(ctx), envelope, eStop });
        audit.append(d.audit);
        if (d.escalate && !escalation.get(target)) {
          escalation.set(target, d.escalate);
          audit.append({ ts: now, actor: 'system', action: 'escalated', detail: `${target}: ${d.escalate.why}` });
        }
      } else if (d.outcome === 'propose' && !pending.has(target)) {
        const id = nextId++;
        pending.set(target, id);
        audit.append({ ts: now, actor: 'system', action: 'proposed', proposalId: id, detail: d.why });
      }
    }
  }
  return { actuations, approvals, overrides };
}

test('governance properties over random sequences of proposals, approvals, overrides and faults', (t) => {
  const configs: Record<string, AutonomyLevel>[] = [
    { 'ess0/SetActivePower': 'L3', 'pv0/ActivePowerLimit': 'L3', 'gen0/SetRunning': 'L1' },
    { 'ess0/SetActivePower': 'L2', 'pv0/ActivePowerLimit': 'L1', 'gen0/SetRunning': 'L2' },
    { 'ess0/SetActivePower': 'L1', 'pv0/ActivePowerLimit': 'L2', 'gen0/SetRunning': 'L3' },
  ];
  for (const [seed, levels] of configs.entries()) {
    const db = tempDb(t);
    const audit = new AuditLog(db);
    const { actuations, approvals, overrides } = runSequence(mulberry32(1000 + seed), audit, levels, 600);
    assert.ok(actuations.length > 50, `the run actuates (${actuations.length})`);
    for (const a of actuations) {
      // Safety always wins: inside the envelope, and nothing but the safe state under an e-stop.
      assert.ok(a.value >= a.envelope.min && a.value <= a.envelope.max, `${a.target} = ${a.value} outside ${a.envelope.min}..${a.envelope.max}`);
      if (a.eStop) assert.equal(a.value, 0);
      // L1 and L2 (configured or escalated) never actuate without a person, whose decision was valid then.
      if (a.effective !== 'L3') {
        assert.ok(PEOPLE.includes(a.by), `${a.target} at ${a.effective} actuated by ${a.by}`);
        if (a.authority === 'override') assert.ok(overrides.some((o) => o.by === a.by && o.target === a.target && a.t < o.untilMs));
        else {
          assert.equal(a.authority, 'approval');
          assert.notEqual(a.effective, 'L1', 'an approval never makes L1 act');
          assert.ok(approvals.some((p) => p.by === a.by && p.target === a.target && p.atMs <= a.t && a.t < p.expiresAtMs));
        }
      }
    }
    for (const target of Object.keys(levels).filter((k) => levels[k] === 'L1')) {
      assert.ok(
        actuations.filter((a) => a.target === target).every((a) => a.authority === 'override'),
        `${target} (L1) only by override`,
      );
    }
    // Every actuation has its audit entry, with the value written.
    const entries = audit.list();
    const actuate = entries.filter((e) => e.action === 'actuate');
    assert.equal(actuate.length, actuations.length);
    actuations.forEach((a, i) => {
      assert.equal(actuate[i]?.ts, a.t);
      assert.ok(actuate[i].detail.startsWith(`${a.target} = ${a.value} `), actuate[i].detail);
      assert.equal(actuate[i].actor, a.by);
    });
    if (Object.values(levels).includes('L3'))
      assert.ok(
        entries.some((e) => e.action === 'escalated'),
        'limits and poor inputs escalate',
      );
    // The chain verifies.
    const v = audit.verify();
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.entries, entries.length);
  }
});

test('the audit chain detects an edited, a deleted and a cut-off entry; the triggers still refuse ordinary edits', (t) => {
  const db = tempDb(t);
  const audit = new AuditLog(db);
  for (let k = 0; k < 10; k++) audit.append({ ts: T0 + k, actor: 'system', action: 'actuate', detail: `ess0/SetActivePower = ${k * 100}` });
  assert.deepEqual(audit.verify(), { ok: true, entries: 10, head: db.prepare('SELECT hash FROM governance_audit ORDER BY id DESC LIMIT 1').pluck().get() });
  assert.throws(() => db.prepare("UPDATE governance_audit SET detail = 'x' WHERE id = 4").run(), /append-only/);
  assert.throws(() => db.prepare("UPDATE governance_audit SET hash = 'x' WHERE id = 4").run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM governance_audit WHERE id = 4').run(), /append-only/);

  // Someone with the file drops the triggers and edits an entry.
  db.exec('DROP TRIGGER governance_audit_no_update; DROP TRIGGER governance_audit_no_delete;');
  db.prepare("UPDATE governance_audit SET detail = 'ess0/SetActivePower = 0' WHERE id = 4").run();
  const edited = audit.verify();
  assert.equal(edited.ok, false);
  assert.equal(edited.at, 4);
  assert.match(edited.why, /entry 4 was changed/);
  db.prepare("UPDATE governance_audit SET detail = 'ess0/SetActivePower = 300' WHERE id = 4").run();
  assert.ok(audit.verify().ok, 'restored, it verifies again');

  db.prepare('DELETE FROM governance_audit WHERE id = 6').run();
  const deleted = audit.verify();
  assert.equal(deleted.ok ? 0 : deleted.at, 7);
  assert.match(deleted.ok ? '' : deleted.why, /does not follow/);
});

test('the audit chain: a cut-off tail is found, and entries from before the chain are sealed at open', (t) => {
  const db = tempDb(t);
  const audit = new AuditLog(db);
  for (let k = 0; k < 5; k++) audit.append({ ts: T0 + k, actor: 'system', action: 'proposed', detail: `${k}` });
  db.exec('DROP TRIGGER governance_audit_no_delete;');
  db.prepare('DELETE FROM governance_audit WHERE id = 5').run();
  const cut = audit.verify();
  assert.equal(cut.ok, false);
  assert.match(cut.why, /entries after 4 \(up to 5\) were deleted/);

  // An old file: entries written before migration 3 have no hash; opening the log seals them in order.
  const db2 = tempDb(t);
  db2
    .prepare("INSERT INTO governance_audit (ts, actor, action, detail) VALUES (?, 'system', 'proposed', 'old 1'), (?, 'op1', 'approved', 'old 2')")
    .run(T0, T0 + 1);
  const log2 = new AuditLog(db2);
  assert.ok(log2.verify().ok);
  log2.append({ ts: T0 + 2, actor: 'system', action: 'relay-opened', detail: 'new' });
  assert.deepEqual(log2.verify().ok ? log2.list().map((e) => e.detail) : [], ['old 1', 'old 2', 'new']);
});

test("the utility's limits lessen a person's override toward rest, never make the asset do more than asked", () => {
  const override = (value: number): Override => ({ target: 'ess0/SetActivePower', value, by: 'amina', reason: 'test', untilMs: T0 + 60_000 });
  const run = (value: number, obligation?: { min: number; max: number }) =>
    decideAction(
      {
        asset: 'ess0',
        capability: 'battery-dispatch',
        target: 'ess0/SetActivePower',
        value: 0,
        envelope: { min: -6000, max: 6000 },
        limitHit: null,
        inputsPoor: null,
        why: 'test',
        ...(obligation ? { obligation: { ...obligation, why: 'utility export limit 1500 W' } } : {}),
      },
      { level: 'L3', escalation: null, override: override(value), approval: null, proposalTtlMs: 60_000, nowMs: T0 },
    );
  const cases: Array<[asked: number, obligation: { min: number; max: number } | undefined, written: number]> = [
    [5000, undefined, 5000], // no utility limit: as asked
    [5000, { min: -Infinity, max: 2100 }, 2100], // export limit: discharge lessened
    [5000, { min: -Infinity, max: -500 }, 0], // the limit wants charging: stopped, not turned into charging
    [0, { min: 2000, max: Infinity }, 0], // import limit: an idled battery stays idle
    [-3000, { min: -1000, max: Infinity }, -1000], // load limit: charging lessened
    [-3000, { min: 500, max: Infinity }, 0], // never pushed past rest
    [9000, { min: -Infinity, max: 2100 }, 2100], // the envelope first (6000), then the obligation
  ];
  for (const [asked, obligation, written] of cases) {
    const d = run(asked, obligation);
    assert.ok(d.outcome === 'actuate', `asked ${asked}: ${d.outcome}`);
    assert.equal(d.value, written, `asked ${asked} with ${JSON.stringify(obligation)}`);
    if (written !== Math.max(-6000, Math.min(6000, asked))) assert.match(d.why, /lessened to -?\d+ by utility export limit 1500 W/);
  }
});
