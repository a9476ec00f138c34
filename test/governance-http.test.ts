import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlSite, type ControlSite } from './helpers/control-site.js';

/**
 * The governance's HTTP answers on a running site with the edge cycle and billing over the same relays
 * (issue 10 item 8): an escalation's alarm names what escalated and clears when a person confirms; a
 * relay action that runs into a more critical capability's claim answers 409 naming the holder, not 502;
 * a reconnect after payment at L2 runs under its named rule and shows in the one approvals list.
 */
const BATTERY_ONLY = [
  { type: 'grid-meter', component: 'grid', perPhase: true },
  { type: 'battery', component: 'ess0', control: 'setpoint', perPhase: true, maxChargeW: 6000, maxDischargeW: 6000 },
];

async function site(governance: Record<string, unknown>): Promise<ControlSite> {
  const s = await startControlSite({
    relays: true,
    control: {
      assets: BATTERY_ONLY,
      controllers: [{ kind: 'passive', id: 'watch' }],
      shedding: [{ meter: 2 }],
    },
    extra: {
      billing: { currency: 'UGX' },
      governance: { noDisconnectWindows: [], noDisconnectWeekdays: [], ...governance },
    },
  });
  let r = await s.call('POST', '/api/tariffs', {
    id: 't1',
    name: 'Flat',
    currency: 'UGX',
    versions: [{ version: 1, effectiveFrom: '2026-01-01', energy: { kind: 'flat', priceE4: 1000 * 10_000 } }],
  });
  assert.equal(r.status, 200, r.text);
  r = await s.call('POST', '/api/customers', { id: 'c2', name: 'Amina', phone: '+256772123456', tariffId: 't1', mode: 'prepaid', meter: 2 });
  assert.equal(r.status, 201, r.text);
  return s;
}

interface Alarm {
  rule: string;
  subject: string;
  state: string;
  message: string;
}

test('confirming an escalation over HTTP clears its governance_escalation alarm, which said what escalated and how to confirm', async (t) => {
  const s = await site({ disconnectAutonomy: 'autonomous' });
  t.after(() => s.close());
  const alarms = async (): Promise<Alarm[]> => {
    const r = await s.call('GET', '/api/alarms?state=all');
    assert.equal(r.status, 200, r.text);
    return (r.json.alarms as Alarm[]).filter((a) => a.rule === 'governance_escalation');
  };
  // A relay that hits its limit under L3: the gate escalates (the path the wear guard and a silent relay take).
  s.sys.billing.gate.escalate('limit hit: relay open refused: daily write budget spent');
  let open = (await alarms()).filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  const alarm = open[0];
  assert.ok(alarm);
  assert.equal(alarm.subject, 'supply-disconnect:site');
  assert.equal(
    alarm.message,
    'supply-disconnect on every relay of the site (asset site) needs a person: limit hit: relay open refused: daily write budget spent; it acts as L2 (proposals wait for approval) until someone confirms it (POST /api/escalations/confirm with capability supply-disconnect and asset site)',
  );
  let r = await s.call('GET', '/api/escalations');
  assert.deepEqual(
    (r.json.escalations as Array<{ capability: string; asset: string }>).map((e) => `${e.capability}:${e.asset}`),
    ['supply-disconnect:site'],
  );

  r = await s.call('POST', '/api/escalations/confirm', { capability: 'supply-disconnect', asset: 'site' });
  assert.equal(r.status, 200, r.text);
  const after = await alarms();
  assert.equal(after.filter((a) => a.state === 'open').length, 0, 'the alarm is cleared');
  assert.equal(after.length, 1, 'and kept in the history');
  r = await s.call('GET', '/api/escalations');
  assert.deepEqual(r.json.escalations, []);
  assert.equal(s.sys.billing.gate.effectiveAutonomy(2), 'L3');
  r = await s.call('POST', '/api/escalations/confirm', { capability: 'supply-disconnect', asset: 'site' });
  assert.equal(r.status, 404, 'nothing left to confirm');

  // Escalated again later: a new alarm opens.
  s.sys.billing.gate.escalate('inputs poor: meter2 readings STALE');
  open = (await alarms()).filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  assert.match(open[0]?.message ?? '', /inputs poor: meter2 readings STALE/);
});

test('a relay action against a relay held by a more critical capability answers 409 naming the holder, not 502', async (t) => {
  const s = await site({ disconnectAutonomy: 'supervised' });
  t.after(() => s.close());
  const model = s.sys.sim?.model;
  assert.ok(model);
  // A pending L2 disconnect of c2, then an operator takes relay2 through the edge cycle (a safety-class claim).
  const p = await s.sys.billing.gate.propose({
    capability: 'disconnect',
    asset: { customer: 'c2', meter: 2 },
    reason: 'credit at zero',
    proposedBy: { kind: 'system' },
  });
  assert.ok(p.created && p.proposal.state === 'pending');
  let r = await s.call('POST', '/api/control/override', { asset: 'relay2', setpoint: 1, minutes: 30, reason: 'clinic fridge on this line' });
  assert.equal(r.status, 200, r.text);

  r = await s.call('POST', '/api/customers/c2/disconnect', { reason: 'tampering' });
  assert.equal(r.status, 409, r.text);
  const holder =
    /supply-disconnect \(business\) is outranked by override of relay2 \(safety\), which holds relay2 closed until 2026-03-10T09:3\d:\d\d\.\d{3}Z: override \d+ by admin: clinic fridge on this line/;
  assert.match(r.json.error as string, holder);
  assert.match(r.json.error as string, /^disconnect of c2 refused: /);

  r = await s.call('POST', `/api/approvals/supply-${p.proposal.id}/approve`);
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error as string, holder);
  r = await s.call('GET', '/api/approvals?state=pending');
  assert.ok(
    (r.json.proposals as Array<{ id: string }>).some((x) => x.id === `supply-${p.proposal.id}`),
    'the proposal stays pending',
  );
  assert.equal(model.isLoadConnected(2), true, 'nothing was written');

  // The other way: the operator holds relay2 open; billing's own relay override (close) is outranked too.
  r = await s.call('POST', '/api/control/override', { asset: 'relay2', setpoint: 0, minutes: 30, reason: 'line work on the pole' });
  assert.equal(r.status, 200, r.text);
  r = await s.call('POST', '/api/relays/2/override', { action: 'close', reason: 'customer calls' });
  assert.equal(r.status, 409, r.text);
  assert.match(
    r.json.error as string,
    /^override of relay2 refused: supply-disconnect \(business\) is outranked by override of relay2 \(safety\), which holds relay2 open/,
  );
  r = await s.call('POST', '/api/customers/c2/reconnect', { reason: 'customer calls' });
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error as string, /outranked by override of relay2 \(safety\), which holds relay2 open .*line work on the pole/);
  assert.equal(s.sys.billing.audit.verify().ok, true);
});

test('L2 with reconnects unattended (the default): a reconnect after payment runs by its rule and shows in the approvals list as decided by policy', async (t) => {
  const s = await site({ disconnectAutonomy: 'supervised' });
  t.after(() => s.close());
  const model = s.sys.sim?.model;
  assert.ok(model);
  let r = await s.call('POST', '/api/customers/c2/disconnect', { reason: 'tampering' });
  assert.equal(r.status, 200, r.text);
  assert.equal(model.isLoadConnected(2), false);
  const p = await s.sys.billing.gate.propose({
    capability: 'reconnect',
    asset: { customer: 'c2', meter: 2 },
    reason: 'prepaid balance 5000 UGX after payment',
    proposedBy: { kind: 'system' },
  });
  assert.ok(p.created && p.proposal.state === 'executed');
  assert.equal(model.isLoadConnected(2), true);
  r = await s.call('GET', '/api/approvals');
  const item = (r.json.proposals as Array<{ id: string; state: string; decidedBy: string | null; why: string }>).find(
    (x) => x.id === `supply-${p.proposal.id}`,
  );
  assert.ok(item);
  assert.equal(item.state, 'executed');
  assert.equal(item.decidedBy, 'policy');
  assert.match(item.why, /rule restore-supply/);
});

test('L2 with governance.reconnectAtL2 supervised: a reconnect after payment waits in the approvals list until a person approves it', async (t) => {
  const s = await site({ disconnectAutonomy: 'supervised', reconnectAtL2: 'supervised' });
  t.after(() => s.close());
  const model = s.sys.sim?.model;
  assert.ok(model);
  let r = await s.call('POST', '/api/customers/c2/disconnect', { reason: 'tampering' });
  assert.equal(r.status, 200, r.text);
  const p = await s.sys.billing.gate.propose({
    capability: 'reconnect',
    asset: { customer: 'c2', meter: 2 },
    reason: 'prepaid balance 5000 UGX after payment',
    proposedBy: { kind: 'system' },
  });
  assert.ok(p.created && p.proposal.state === 'pending');
  assert.equal(model.isLoadConnected(2), false, 'no switch without a person');
  r = await s.call('GET', '/api/approvals?state=pending');
  const item = (r.json.proposals as Array<{ id: string; value: number; why: string }>).find((x) => x.id === `supply-${p.proposal.id}`);
  assert.ok(item);
  assert.equal(item.value, 1, 'a reconnect closes the relay');
  assert.match(item.why, /governance\.reconnectAtL2: supervised/);
  r = await s.call('POST', `/api/approvals/supply-${p.proposal.id}/approve`);
  assert.equal(r.status, 200, r.text);
  assert.equal(model.isLoadConnected(2), true);
});

test('numbers from outside are bounded at the edge: an override or a mode with 1e308 W is refused naming the field, and nothing changes', async (t) => {
  const s = await site({});
  t.after(() => s.close());
  const before = await s.call('GET', '/api/control');
  let r = await s.call('POST', '/api/control/override', { asset: 'ess0', setpoint: 1e308, minutes: 5, reason: 'typo' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error as string, /^setpoint: must be at most 1,000,000 W; found 1e\+308/);
  r = await s.call('POST', '/api/control/mode', { controllers: [{ kind: 'peak-shaving', id: 'ps', importLimitW: 1e308 }], reason: 'typo' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error as string, /controllers\.0\.importLimitW: must be at most 10,000,000 W; found 1e\+308/);
  r = await s.call('POST', '/api/control/mode', { controllers: [{ kind: 'frequency-droop', id: 'd', maxResponseW: 1000, f1: 1e9 }], reason: 'typo' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error as string, /controllers\.0\.f1: must be at most 70 Hz; found 1000000000/);
  r = await s.call('POST', '/api/control/mode', { controllers: [{ kind: 'peak-shaving', id: 'ps', importLimitW: -5 }], reason: 'typo' });
  assert.match(r.json.error as string, /controllers\.0\.importLimitW: must be at least 0; found -5/);
  const after = await s.call('GET', '/api/control');
  assert.deepEqual(
    (after.json.controllers as Array<{ id: string }>).map((c) => c.id),
    (before.json.controllers as Array<{ id: string }>).map((c) => c.id),
  );
  assert.deepEqual(after.json.overrides, []);
});
