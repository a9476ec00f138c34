import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { HttpError, RouteRegistry } from '../src/api/route.js';
import { UserStore } from '../src/auth/user-store.js';
import { AuditLog } from '../src/governance/audit-log.js';
import { GovernanceGate } from '../src/governance/gate.js';
import { GovernanceSettings } from '../src/governance/governance-settings.js';
import { PrepaidLoop, type PrepaidCustomer } from '../src/governance/prepaid-loop.js';
import { ProposalStore } from '../src/governance/proposal-store.js';
import { registerGovernanceRoutes } from '../src/governance/routes.js';
import { disconnectPolicySchema, type Proposal } from '../src/governance/types.js';
import { SmsOutbox } from '../src/notifications/sms-outbox.js';
import { SmsSender } from '../src/notifications/sms-sender.js';
import { RelayBank } from '../src/relays/relay-bank.js';
import { RelayDriver } from '../src/relays/relay-driver.js';
import { RELAY_MODELS } from '../src/relays/relay-models.js';
import { addRelayModule } from '../src/sim/relay-module.js';
import { httpClient } from './helpers/http.js';
import { startSimSite } from './helpers/site.js';
import { tempDb } from './helpers/temp-db.js';
import { CreditEventHub } from '../src/billing-runtime/credit-events.js';

/** These cases start supervised (L2), as a site seeded with governance.disconnectAutonomy: supervised; the seed's own default is L3. */
function supervised(s: GovernanceSettings): GovernanceSettings {
  s.setSiteLevel('test', 'L2');
  return s;
}

const kampala = (hhmm: string): number => Date.parse(`2026-04-07T${hhmm}:00+03:00`); // a Tuesday

test('prepaid loop on the simulator: zero -> supervised proposal -> approved over HTTP -> 0 W; payment -> reconnect; night -> nothing', async (t) => {
  let now = kampala('10:00');
  const s = await startSimSite({ customers: 4, sim: { clock: () => now, seed: 5 }, now: () => now });
  t.after(() => s.close());
  const ids = s.sim.model.customers.map((c) => c.id);
  for (const id of ids) s.sim.model.setLoadOverride(id, { watts: 500, powerFactor: 0.95 });
  addRelayModule(s.sim, { address: 120, wiredTo: ids });
  const bus = s.site.bus('bus1');
  assert.ok(bus);
  const driver = new RelayDriver(bus, 120, RELAY_MODELS['waveshare-8ch-nc']);
  const relays = new RelayBank();
  ids.forEach((meter, i) => relays.wire(meter, { driver, channel: i + 1 }));
  const [poller] = s.site.pollers();
  assert.ok(poller);
  const powerOf = async (meter: number): Promise<number> => {
    await poller.runCycle();
    const v = s.site.image.component(`meter${meter}`).ActivePower?.value;
    assert.ok(typeof v === 'number');
    return v;
  };

  const db = tempDb(t);
  const customers = new Map<string, PrepaidCustomer & { protected: boolean }>(
    ids.map((meter, i) => [`C${i + 1}`, { id: `C${i + 1}`, name: `Customer ${i + 1}`, phone: `+25670000000${i + 1}`, meter, protected: i === 3 }]),
  );
  const audit = new AuditLog(db);
  const gate = new GovernanceGate({
    site: 'test',
    policy: disconnectPolicySchema.parse({}),
    proposals: new ProposalStore(db),
    settings: supervised(new GovernanceSettings(db)),
    audit,
    relays,
    isProtected: (c) => customers.get(c)?.protected ?? false,
    clock: () => now,
  });
  const outbox = new SmsOutbox(db);
  const sms = new SmsSender(outbox, { send: () => Promise.resolve({ id: 'x' }) }, { clock: () => now });
  const credit = new CreditEventHub();
  const errors: unknown[] = [];
  const loop = new PrepaidLoop({ events: credit, gate, customer: (id) => customers.get(id), sms, onError: (e) => errors.push(e) });
  loop.start();

  const users = new UserStore(db);
  const token: Record<string, string> = {};
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    await users.create(`${role}1`, 'a long enough secret', role);
    token[role] = (await users.login(`${role}1`, 'a long enough secret'))?.token ?? '';
  }
  const app = Fastify({ logger: false });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    return reply.code(err.statusCode ?? 500).send({ error: err.message });
  });
  registerGovernanceRoutes(new RouteRegistry(app, users), {
    gate,
    audit,
    customerOfMeter: (m) => [...customers.values()].find((c) => c.meter === m)?.id ?? null,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const http = httpClient(() => url);

  const c1 = customers.get('C1');
  assert.ok(c1);
  assert.ok((await powerOf(c1.meter)) > 400);

  // 1. Credit runs out at 10:00 on a Tuesday: a supervised proposal waits for an operator.
  credit.emit('low', { customer: 'C1', balance: 'UGX 500' });
  credit.emit('zero', { customer: 'C1', balance: 'UGX 0' });
  await loop.idle();
  const pending = await http.call('GET', '/api/proposals?state=pending', { token: token.viewer });
  assert.equal(pending.status, 200);
  const [proposal] = pending.json.proposals as Proposal[];
  assert.ok(proposal);
  assert.deepEqual(
    [proposal.capability, proposal.asset, proposal.criticality, proposal.proposedBy],
    ['disconnect', { customer: 'C1', meter: c1.meter }, 'business-critical', { kind: 'system' }],
  );
  assert.ok((await powerOf(c1.meter)) > 400, 'nothing is switched before approval');

  // 2. A viewer may not approve; an operator does, and the relay opens.
  assert.equal((await http.call('POST', `/api/proposals/${proposal.id}/approve`, { token: token.viewer })).status, 403);
  now += 60_000;
  const approved = await http.call('POST', `/api/proposals/${proposal.id}/approve`, { token: token.operator });
  assert.equal(approved.status, 200, approved.text);
  assert.equal((approved.json.proposal as Proposal).state, 'executed');
  assert.equal(await powerOf(c1.meter), 0);
  assert.equal((await http.call('POST', `/api/proposals/${proposal.id}/approve`, { token: token.operator })).status, 409, 'approving twice is a conflict');

  // 3. A payment brings the balance above zero: reconnected automatically, consumption resumes.
  now += 60_000;
  credit.emit('positive', { customer: 'C1', balance: 'UGX 4,500', amount: 'UGX 5,000' });
  await loop.idle();
  assert.ok((await powerOf(c1.meter)) > 400);
  assert.deepEqual(
    gate.list('executed').map((p) => p.capability),
    ['disconnect', 'reconnect'],
  );

  // 4. At 19:00 nobody is disconnected: no proposal is created, and the refusal is audited.
  now = kampala('19:00');
  credit.emit('zero', { customer: 'C2', balance: 'UGX 0' });
  await loop.idle();
  assert.equal(gate.list().filter((p) => p.asset.customer === 'C2').length, 0);
  assert.ok((await powerOf(customers.get('C2')?.meter ?? 0)) > 400);

  // 5. A protected customer is never auto-disconnected, even in the window.
  now = kampala('11:00');
  credit.emit('zero', { customer: 'C4', balance: 'UGX 0' });
  await loop.idle();
  assert.equal(gate.list().filter((p) => p.asset.customer === 'C4').length, 0);

  // 6. L3 (set by an admin over HTTP): a zero balance disconnects without waiting.
  assert.equal((await http.call('PUT', '/api/governance/autonomy', { token: token.operator, body: { capability: 'disconnect', level: 'L3' } })).status, 403);
  assert.equal((await http.call('PUT', '/api/governance/autonomy', { token: token.admin, body: { capability: 'disconnect', level: 'L3' } })).status, 200);
  const c3 = customers.get('C3');
  assert.ok(c3);
  credit.emit('zero', { customer: 'C3', balance: 'UGX 0' });
  await loop.idle();
  assert.equal(await powerOf(c3.meter), 0);

  // 7. Human override: force C3 closed and hold it; a new zero balance is refused while held.
  const o = await http.call('POST', `/api/relays/${c3.meter}/override`, {
    token: token.operator,
    body: { action: 'hold', reason: 'hospital patient at home' },
  });
  assert.equal(o.status, 200, o.text);
  assert.ok((await powerOf(c3.meter)) > 400);
  credit.emit('zero', { customer: 'C3', balance: 'UGX 0' });
  await loop.idle();
  assert.ok((await powerOf(c3.meter)) > 400);
  assert.deepEqual(errors, []);

  // The audit log holds every step with who and when, and refuses to be rewritten.
  const all = await http.call('GET', `/api/audit?from=${kampala('00:00')}&to=${new Date(kampala('23:59')).toISOString()}`, { token: token.viewer });
  assert.equal(all.status, 200);
  const steps = (all.json.entries as Array<{ ts: number; actor: string; action: string; customer: string | null; detail: string }>).map(
    (e) => `${e.customer} ${e.actor} ${e.action}`,
  );
  assert.deepEqual(steps, [
    'C1 system proposed',
    'C1 operator1 approved',
    'C1 system relay-opened',
    'C1 system proposed', // the reconnect
    'C1 system relay-closed',
    'C2 system refused',
    'C4 system refused',
    'null admin1 autonomy',
    'C3 system proposed',
    'C3 system relay-opened',
    'C3 operator1 override',
    'C3 operator1 relay-closed',
    'C3 system refused',
  ]);
  const entries = audit.list();
  assert.ok(entries.every((e) => e.ts >= kampala('10:00') && e.ts <= kampala('19:00')));
  assert.match(entries.find((e) => e.customer === 'C2')?.detail ?? '', /between 18:00 and 08:00/);
  assert.match(entries.find((e) => e.action === 'relay-opened')?.detail ?? '', /closed -> open \(read back\)/);
  assert.throws(() => db.prepare('DELETE FROM governance_audit').run(), /append-only/);
  assert.throws(() => db.prepare("UPDATE governance_audit SET actor = 'nobody'").run(), /append-only/);

  // The customer was told at each step.
  assert.deepEqual(
    outbox
      .all()
      .filter((m) => m.to === c1.phone)
      .map((m) => m.kind),
    ['low-balance', 'disconnect-warning', 'receipt', 'reconnect'],
  );
});

test('a relay that does not switch leaves the proposal failed and audited, never assumed done', async (t) => {
  const now = kampala('10:00');
  const s = await startSimSite({ customers: 1, sim: { clock: () => now }, now: () => now });
  t.after(() => s.close());
  const meter = s.sim.model.customers[0]?.id ?? 0;
  const module = addRelayModule(s.sim, { address: 120, wiredTo: [meter] });
  module.ignoreWrites = true;
  const bus = s.site.bus('bus1');
  assert.ok(bus);
  const relays = new RelayBank();
  relays.wire(meter, { driver: new RelayDriver(bus, 120, RELAY_MODELS['waveshare-8ch-nc']), channel: 1 });
  const db = tempDb(t);
  const audit = new AuditLog(db);
  const settings = supervised(new GovernanceSettings(db));
  const gate = new GovernanceGate({
    site: 'test',
    policy: disconnectPolicySchema.parse({}),
    proposals: new ProposalStore(db),
    settings,
    audit,
    relays,
    isProtected: () => false,
    clock: () => now,
  });
  gate.setAutonomy('disconnect', 'L3', 'admin1');
  const r = await gate.propose({ capability: 'disconnect', asset: { customer: 'C1', meter }, reason: 'balance zero', proposedBy: { kind: 'system' } });
  assert.ok(r.created);
  assert.equal(r.proposal.state, 'failed');
  assert.match(r.proposal.why ?? '', /reads back closed/);
  assert.equal(audit.list().at(-1)?.action, 'relay-failed');
});

test('pending proposals expire after the policy time to live', async (t) => {
  let now = kampala('10:00');
  const db = tempDb(t);
  const audit = new AuditLog(db);
  const gate = new GovernanceGate({
    site: 'test',
    policy: disconnectPolicySchema.parse({ proposalTtlMs: 3600_000 }),
    proposals: new ProposalStore(db),
    settings: supervised(new GovernanceSettings(db)),
    audit,
    relays: new RelayBank(),
    isProtected: () => false,
    clock: () => now,
  });
  const r = await gate.propose({ capability: 'disconnect', asset: { customer: 'C1', meter: 2 }, reason: 'balance zero', proposedBy: { kind: 'system' } });
  assert.ok(r.created && r.proposal.state === 'pending');
  now += 3600_000;
  assert.deepEqual(gate.list('pending'), []);
  assert.equal(gate.list('expired').length, 1);
  await assert.rejects(gate.approve(r.proposal.id, 'op'), /expired, not pending/);
  assert.deepEqual(
    audit.list().map((e) => e.action),
    ['proposed', 'expired'],
  );
});
