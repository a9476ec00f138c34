import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AuditLog } from '../src/governance/audit-log.js';
import { EscalationStore } from '../src/governance/escalations.js';
import { GovernanceGate } from '../src/governance/gate.js';
import { GovernanceSettings } from '../src/governance/governance-settings.js';
import { ProposalStore } from '../src/governance/proposal-store.js';
import { RelayClaims } from '../src/governance/relay-claims.js';
import { disconnectPolicySchema, type AutonomyLevel, type ReconnectAtL2 } from '../src/governance/types.js';
import { restoreSupplyRule } from '../src/governance/decide.js';
import { relayWriter, ShedLedger } from '../src/edge/dispatch.js';
import { RelayBank } from '../src/relays/relay-bank.js';
import { RelayDriver, type CoilBus } from '../src/relays/relay-driver.js';
import { RELAY_MODELS } from '../src/relays/relay-models.js';
import { startSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { httpClient } from './helpers/http.js';
import { tempDb } from './helpers/temp-db.js';

/**
 * supply-disconnect as one capability of the action governance (issue 10 item 8): its levels, the
 * shared audit chain, safety outranking it on one relay, L3 escalation, and the one approvals queue.
 */
const T0 = Date.UTC(2026, 3, 7, 7, 0, 0); // Tuesday 10:00 in Kampala: inside the disconnect window
const NC = RELAY_MODELS['waveshare-8ch-nc'];

/** A relay module's coils in memory, counting every write (an actuation). */
class Coils implements CoilBus {
  readonly coils = new Array<boolean>(8).fill(false);
  readonly writes: Array<{ coil: number; on: boolean; duringPerson: boolean }> = [];
  person = false;
  readCoils(_u: number, start: number, count: number): Promise<boolean[]> {
    return Promise.resolve(this.coils.slice(start, start + count));
  }
  writeCoil(_u: number, coil: number, on: boolean): Promise<void> {
    this.writes.push({ coil, on, duringPerson: this.person });
    this.coils[coil] = on;
    return Promise.resolve();
  }
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rig(t: { after: (fn: () => void) => void }, level: AutonomyLevel, reconnectAtL2: ReconnectAtL2 = 'unattended') {
  const db = tempDb(t);
  let now = T0;
  const coils = new Coils();
  const driver = new RelayDriver(coils, 200, NC, { name: 'bus1/200' });
  const relays = new RelayBank();
  for (let m = 1; m <= 4; m++) relays.wire(m, { driver, channel: m });
  const settings = new GovernanceSettings(db);
  settings.setSiteLevel('test', level);
  const audit = new AuditLog(db);
  const claims = new RelayClaims();
  const notified: string[] = [];
  let poor: string | null = null;
  const gate = new GovernanceGate({
    site: 'test',
    policy: disconnectPolicySchema.parse({ noDisconnectWindows: [], noDisconnectWeekdays: [], proposalTtlMs: 3600_000, reconnectAtL2 }),
    proposals: new ProposalStore(db),
    settings,
    audit,
    relays,
    isProtected: (c) => c === 'C4',
    clock: () => now,
    escalations: new EscalationStore(db),
    inputsPoor: () => poor,
    notify: (e) => notified.push(e.escalation.why),
    claims,
  });
  return {
    db,
    gate,
    audit,
    coils,
    claims,
    relays,
    notified,
    setPoor: (p: string | null) => (poor = p),
    advance: (ms: number) => (now += ms),
    now: () => now,
  };
}

for (const [level, reconnect] of [
  ['L1', 'unattended'],
  ['L2', 'unattended'],
  ['L2', 'supervised'],
] as const) {
  test(`property: supply-disconnect at ${level} (reconnects at L2 ${reconnect}) never switches a relay without a person (at L2 never opens one${reconnect === 'supervised' ? ', nor closes one' : ''}); every write is audited; the chain verifies`, async (t) => {
    let personWrites = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const r = rig(t, level, reconnect);
      const rnd = mulberry32(seed * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
      const person = async (fn: () => unknown): Promise<void> => {
        r.coils.person = true;
        try {
          await fn();
        } catch {
          /* a refused or stale approval is a valid outcome of a random sequence */
        } finally {
          r.coils.person = false;
        }
      };
      for (let step = 0; step < 60; step++) {
        const meter = 1 + Math.floor(rnd() * 4);
        const asset = { customer: `C${meter}`, meter };
        const pending = r.gate.list('pending');
        switch (
          pick(['sys-disconnect', 'sys-disconnect', 'sys-reconnect', 'approve', 'reject', 'time', 'shed', 'unshed', 'person-disconnect', 'override', 'poor'])
        ) {
          case 'sys-disconnect':
            await r.gate.propose({ capability: 'disconnect', asset, reason: 'credit at zero', proposedBy: { kind: 'system' } });
            break;
          case 'sys-reconnect':
            await r.gate.propose({ capability: 'reconnect', asset, reason: 'paid', proposedBy: { kind: 'system' } });
            break;
          case 'approve':
            if (pending.length) await person(() => r.gate.approve(pick(pending).id, 'op1'));
            break;
          case 'reject':
            if (pending.length) r.gate.reject(pick(pending).id, 'op1', 'not today');
            break;
          case 'time':
            r.advance(Math.floor(rnd() * 2 * 3600_000));
            r.gate.expireStale();
            break;
          case 'shed':
            r.claims.claim(meter, { by: 'load-shedding', criticality: 'safety', state: 'open', why: 'islanded', untilMs: null });
            break;
          case 'unshed':
            r.claims.release(meter, 'load-shedding'); // a deferred reconnect may run: it was decided by policy or a person before
            break;
          case 'person-disconnect':
            await person(() => r.gate.propose({ capability: 'disconnect', asset, reason: 'tampering', proposedBy: { kind: 'user', username: 'op2' } }));
            break;
          case 'override':
            await person(() => r.gate.override(meter, asset.customer, 'op2', { action: 'close', reason: 'doctor on site' }));
            break;
          case 'poor':
            r.setPoor(rnd() < 0.5 ? 'meter readings STALE' : null);
            break;
        }
      }
      await r.gate.resumeDeferred();
      // Writes without a person: none at L1; at L2 only closes (a reconnect restores supply, the neutral state).
      const unattended = r.coils.writes.filter((w) => !w.duringPerson);
      // NC wiring: a coil on means the relay is open (supply off).
      const opens = unattended.filter((w) => w.on);
      assert.equal(opens.length, 0, `seed ${seed}: a relay opened without a person: ${JSON.stringify(opens)}`);
      if (level === 'L1' || reconnect === 'supervised') assert.equal(unattended.length, 0, `seed ${seed}: ${level} (${reconnect}) switched a relay by itself`);
      // Every write has its audit entry (a relay-opened/closed entry with a change read back).
      const changes = r.audit.list().filter((e) => (e.action === 'relay-opened' || e.action === 'relay-closed') && e.detail.includes('->'));
      assert.equal(changes.length, r.coils.writes.length, `seed ${seed}: writes and audited changes differ`);
      assert.equal(r.audit.verify().ok, true);
      // Protected customers are never disconnected by the system.
      assert.ok(!r.gate.list().some((p) => p.asset.customer === 'C4' && p.capability === 'disconnect' && p.proposedBy.kind === 'system'));
      personWrites += r.coils.writes.filter((w) => w.duringPerson).length;
    }
    assert.ok(personWrites > 0, 'the sequences did switch relays (through people)');
  });
}

test('safety outranks the business disconnect on one relay: a shed relay is not closed by a payment until shedding ends', async (t) => {
  const r = rig(t, 'L3');
  const asset = { customer: 'C1', meter: 1 };
  let p = await r.gate.propose({ capability: 'disconnect', asset, reason: 'credit at zero', proposedBy: { kind: 'system' } });
  assert.ok(p.created && p.proposal.state === 'executed', 'L3 disconnects within policy');
  assert.equal(await r.relays.state(1), 'open');

  // The grid fails: the edge cycle sheds relay1 (safety) through its own writer and claims the relay.
  const ledger = new ShedLedger(r.db);
  const writer = relayWriter(r.relays, (c) => (c === 'relay1' ? 1 : undefined), ledger, r.now, {
    claims: r.claims,
    businessOpen: (m) => r.gate.isDisconnected(m),
  });
  await writer.write('relay1/SetClosed', 0);
  assert.equal(r.claims.holder(1, r.now())?.by, 'load-shedding');

  // The customer pays while islanded: the reconnect is decided but outranked; nothing is written.
  const writes = r.coils.writes.length;
  p = await r.gate.propose({ capability: 'reconnect', asset, reason: 'paid', proposedBy: { kind: 'system' } });
  assert.ok(p.created);
  assert.equal(p.proposal.state, 'approved', 'it waits for shedding to end');
  assert.match(
    p.proposal.why ?? '',
    /outranked by load-shedding \(safety\), which holds relay1 open until it releases it: .*the close runs when it releases the relay/,
  );
  assert.equal(r.coils.writes.length, writes);
  assert.equal(await r.relays.state(1), 'open');
  assert.match(r.audit.list().at(-1)?.detail ?? '', /outranked by load-shedding \(safety\)/);
  // A person's reconnect is outranked too: safety limits apply to everyone.
  const o = await r.gate.override(1, 'C1', 'op1', { action: 'close', reason: 'customer calls' });
  assert.equal(o.outranked, true);

  // The grid returns: shedding releases the relay and the deferred reconnect runs.
  await writer.write('relay1/SetClosed', 1);
  await new Promise((res) => setImmediate(res));
  await r.gate.resumeDeferred();
  assert.equal(await r.relays.state(1), 'closed');
  assert.equal(r.gate.list().find((x) => x.id === p.proposal.id)?.state, 'executed');

  // An operator override holding relay2 closed outranks an autonomous disconnect of it.
  r.claims.claim(2, { by: 'override of relay2', criticality: 'safety', state: 'closed', why: 'clinic fridge', untilMs: r.now() + 3600_000 });
  const d = await r.gate.propose({ capability: 'disconnect', asset: { customer: 'C2', meter: 2 }, reason: 'credit at zero', proposedBy: { kind: 'system' } });
  assert.ok(d.created);
  assert.equal(d.proposal.state, 'failed');
  assert.equal(await r.relays.state(2), 'closed');
  // A shed relay whose customer billing disconnected meanwhile stays open when the grid returns.
  await writer.write('relay1/SetClosed', 0); // shed again (relay1 is closed now: opened by shedding)
  await r.gate.propose({ capability: 'disconnect', asset, reason: 'credit at zero again', proposedBy: { kind: 'user', username: 'op1' } });
  await writer.write('relay1/SetClosed', 1);
  assert.equal(await r.relays.state(1), 'open', 'the restore does not reconnect a customer billing disconnected');
  assert.equal(r.audit.verify().ok, true);
});

test('escalation: L3 with poor inputs drops to L2, tells people, and returns to L3 only when a person confirms', async (t) => {
  const r = rig(t, 'L3');
  r.setPoor('meter meter1 readings are STALE (EnergyImport)');
  const p = await r.gate.propose({ capability: 'disconnect', asset: { customer: 'C1', meter: 1 }, reason: 'credit at zero', proposedBy: { kind: 'system' } });
  assert.ok(p.created);
  assert.equal(p.proposal.state, 'pending', 'escalated: waits for a person');
  assert.equal(r.gate.effectiveAutonomy(1), 'L2');
  assert.deepEqual(r.notified, ['inputs poor: meter meter1 readings are STALE (EnergyImport)']);
  assert.equal(await r.relays.state(1), 'closed');
  r.setPoor(null);
  const q = await r.gate.propose({ capability: 'disconnect', asset: { customer: 'C2', meter: 2 }, reason: 'credit at zero', proposedBy: { kind: 'system' } });
  assert.ok(q.created && q.proposal.state === 'pending', 'still L2 though the inputs recovered: a person must confirm');
  assert.equal(r.gate.confirmEscalation('op1'), true);
  assert.equal(r.gate.effectiveAutonomy(1), 'L3');
  const actions = r.audit.list().map((e) => e.action);
  assert.ok(actions.includes('escalated') && actions.includes('escalation-confirmed'));
  assert.equal(r.audit.verify().ok, true);
});

test('HTTP: an L2 disconnect proposal shows in the unified approvals list with the control proposals; approving it opens the relay', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-approvals-'));
  const clock = clockStartingAt(T0);
  const sys = await startSystem({
    config: {
      site: { id: 'approvals', name: 'Approvals', timezone: 'Africa/Kampala' },
      poll: { intervalMs: 1000 },
      storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 1000 },
      http: { port: 0 },
      sim: { enabled: true, customers: 3, port: 0, relays: true },
      billing: { currency: 'UGX' },
      governance: { disconnectAutonomy: 'supervised', noDisconnectWindows: [], noDisconnectWeekdays: [] },
    },
    adminPassword: 'correct horse battery',
    clock,
    simClock: clockStartingAt(clock()),
    logger: pino({ level: 'silent' }),
  });
  try {
    const http = httpClient(() => sys.url);
    const token = await http.login('admin', 'correct horse battery');
    const call = (method: string, url: string, body?: unknown) => http.call(method, url, { token, body });
    let res = await call('POST', '/api/tariffs', {
      id: 't1',
      name: 'Flat',
      currency: 'UGX',
      versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 1000 * 10_000 } }],
    });
    assert.equal(res.status, 200, res.text);
    res = await call('POST', '/api/customers', { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: 't1', mode: 'prepaid', meter: 2 });
    assert.equal(res.status, 201, res.text);
    assert.ok(sys.sim);
    assert.equal(sys.sim.model.isLoadConnected(2), true);
    // The prepaid loop's proposal, as the system makes it at zero credit.
    const p = await sys.billing.gate.propose({
      capability: 'disconnect',
      asset: { customer: 'c2', meter: 2 },
      reason: 'credit at zero',
      proposedBy: { kind: 'system' },
    });
    assert.ok(p.created && p.proposal.state === 'pending');

    res = await call('GET', '/api/approvals?state=pending');
    assert.equal(res.status, 200, res.text);
    const items = res.json.proposals as Array<{ id: string; capability: string; criticality: string; asset: string; target: string; value: number }>;
    const item = items.find((x) => x.id === `supply-${p.proposal.id}`);
    assert.deepEqual(item && { capability: item.capability, criticality: item.criticality, asset: item.asset, target: item.target, value: item.value }, {
      capability: 'supply-disconnect',
      criticality: 'business',
      asset: 'relay2',
      target: 'relay2/SetClosed',
      value: 0,
    });
    assert.equal(sys.sim.model.isLoadConnected(2), true, 'L2: nothing switched before a person approves');

    res = await call('POST', `/api/approvals/supply-${p.proposal.id}/approve`);
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json.proposal as { state: string }).state, 'executed');
    assert.equal(sys.sim.model.isLoadConnected(2), false, 'the relay opened');
    res = await call('GET', '/api/audit');
    const entries = res.json.entries as Array<{ action: string; actor: string; proposalId: number | null }>;
    assert.ok(entries.some((e) => e.action === 'approved' && e.actor === 'admin' && e.proposalId === p.proposal.id));
    assert.ok(entries.some((e) => e.action === 'relay-opened' && e.proposalId === p.proposal.id));
    assert.equal(sys.billing.audit.verify().ok, true);
    res = await call('POST', `/api/approvals/supply-${p.proposal.id}/approve`);
    assert.equal(res.status, 409, 'decided once');
    // A number from outside is bounded: 23 digits is a malformed id, not a lookup of 1e+23.
    res = await call('POST', '/api/approvals/supply-99999999999999999999999/approve');
    assert.equal(res.status, 400);
  } finally {
    await sys.close();
  }
});

test('rule restore-supply: which reconnects the system runs without a person, per level and site setting', () => {
  const table: Array<[AutonomyLevel, ReconnectAtL2, 'refuse' | 'needs-approval' | 'execute']> = [
    ['L1', 'unattended', 'refuse'],
    ['L1', 'supervised', 'refuse'],
    ['L2', 'unattended', 'execute'],
    ['L2', 'supervised', 'needs-approval'],
    ['L3', 'unattended', 'execute'],
    ['L3', 'supervised', 'execute'],
  ];
  for (const [level, atL2, outcome] of table) {
    const d = restoreSupplyRule(level, atL2);
    assert.equal(d.outcome, outcome, `${level} ${atL2}`);
    if (outcome === 'execute') assert.match(d.why, /rule restore-supply/, 'an unattended restore names its rule');
  }
});

for (const atL2 of ['unattended', 'supervised'] as const) {
  test(`L2 reconnect after payment, governance.reconnectAtL2 ${atL2}: ${atL2 === 'unattended' ? 'runs without a person and is audited under its rule' : 'waits for a person like a disconnect'}`, async (t) => {
    const r = rig(t, 'L2', atL2);
    const asset = { customer: 'C1', meter: 1 };
    await r.gate.propose({ capability: 'disconnect', asset, reason: 'tampering', proposedBy: { kind: 'user', username: 'op1' } });
    assert.equal(await r.relays.state(1), 'open');
    const p = await r.gate.propose({ capability: 'reconnect', asset, reason: 'paid 5000 UGX', proposedBy: { kind: 'system' } });
    assert.ok(p.created);
    if (atL2 === 'unattended') {
      assert.equal(p.proposal.state, 'executed');
      assert.equal(p.proposal.decidedBy, 'policy');
      assert.equal(await r.relays.state(1), 'closed');
      const proposed = r.audit.list().find((e) => e.action === 'proposed' && e.proposalId === p.proposal.id);
      assert.match(proposed?.detail ?? '', /rule restore-supply: a reconnect restores supply, so it runs without a person at L2/);
      assert.equal(r.audit.list().find((e) => e.action === 'relay-closed' && e.proposalId === p.proposal.id)?.actor, 'system');
    } else {
      assert.equal(p.proposal.state, 'pending');
      assert.equal(await r.relays.state(1), 'open', 'nothing switched before a person approves');
      const done = await r.gate.approve(p.proposal.id, 'op2');
      assert.equal(done.state, 'executed');
      assert.equal(done.decidedBy, 'op2');
      assert.equal(await r.relays.state(1), 'closed');
    }
    assert.equal(r.audit.verify().ok, true);
  });
}

test("a person's disconnect or approval against a relay held by a more critical capability is refused, naming the holder; nothing is written", async (t) => {
  const r = rig(t, 'L2');
  const asset = { customer: 'C2', meter: 2 };
  const pending = await r.gate.propose({ capability: 'disconnect', asset, reason: 'credit at zero', proposedBy: { kind: 'system' } });
  assert.ok(pending.created && pending.proposal.state === 'pending');
  r.claims.claim(2, { by: 'override of relay2', criticality: 'safety', state: 'closed', why: 'override 1 by op9: clinic fridge', untilMs: r.now() + 3600_000 });
  const writes = r.coils.writes.length;
  const d = await r.gate.propose({ capability: 'disconnect', asset, reason: 'tampering', proposedBy: { kind: 'user', username: 'op1' } });
  assert.ok(!d.created);
  assert.match(
    d.why,
    /^supply-disconnect \(business\) is outranked by override of relay2 \(safety\), which holds relay2 closed until 2026-04-07T08:00:00.000Z: override 1 by op9: clinic fridge$/,
  );
  await assert.rejects(
    () => r.gate.approve(pending.proposal.id, 'op1'),
    (e: Error & { reason?: string }) => e.reason === 'outranked' && /outranked by override of relay2 \(safety\).*it stays pending/.test(e.message),
  );
  assert.equal(r.gate.list().find((x) => x.id === pending.proposal.id)?.state, 'pending');
  assert.equal(r.coils.writes.length, writes);
  assert.equal(await r.relays.state(2), 'closed');
  // The override ends: the same approval goes through.
  r.advance(3600_000);
  r.gate.expireStale();
  const again = await r.gate.propose({ capability: 'disconnect', asset, reason: 'tampering', proposedBy: { kind: 'user', username: 'op1' } });
  assert.ok(again.created && again.proposal.state === 'executed');
  assert.equal(await r.relays.state(2), 'open');
  assert.deepEqual(
    r.audit
      .list()
      .filter((e) => e.action === 'refused' || e.action === 'approval-refused')
      .map((e) => e.action),
    ['refused', 'approval-refused'],
  );
});
