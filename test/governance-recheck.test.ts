import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../src/governance/audit-log.js';
import { GovernanceGate, type RelayActuator } from '../src/governance/gate.js';
import { GovernanceSettings } from '../src/governance/governance-settings.js';
import { PrepaidLoop, type PrepaidCustomer } from '../src/governance/prepaid-loop.js';
import { ProposalStore } from '../src/governance/proposal-store.js';
import { disconnectPolicySchema } from '../src/governance/types.js';
import { tempDb } from './helpers/temp-db.js';
import { CreditEventHub } from '../src/billing-runtime/credit-events.js';

/** These cases start supervised (L2), as a site seeded with governance.disconnectAutonomy: supervised; the seed's own default is L3. */
function supervised(s: GovernanceSettings): GovernanceSettings {
  s.setSiteLevel('test', 'L2');
  return s;
}

/** Tuesday 2026-04-07 21:00 in Kampala (UTC+3): inside the default night window. */
const TUESDAY_NIGHT = Date.parse('2026-04-07T21:00:00+03:00');
/** Wednesday 09:00: the window is open. */
const WEDNESDAY_MORNING = Date.parse('2026-04-08T09:00:00+03:00');
/** Friday 21:00, and the Saturday/Sunday after it (weekend days are no-disconnect days too). */
const FRIDAY_NIGHT = Date.parse('2026-04-10T21:00:00+03:00');

function setUp(t: { after: (fn: () => void) => void }, start: number) {
  const db = tempDb(t);
  const clock = { now: start };
  const switched: string[] = [];
  const relays: RelayActuator = {
    open: () => {
      switched.push('open');
      return Promise.resolve({ channel: 1, before: 'closed', after: 'open' });
    },
    close: () => {
      switched.push('close');
      return Promise.resolve({ channel: 1, before: 'open', after: 'closed' });
    },
  };
  const audit = new AuditLog(db);
  const gate = new GovernanceGate({
    site: 'test',
    policy: disconnectPolicySchema.parse({}),
    proposals: new ProposalStore(db),
    settings: supervised(new GovernanceSettings(db)),
    audit,
    relays,
    isProtected: () => false,
    clock: () => clock.now,
  });
  const customers = new Map<string, PrepaidCustomer>([['C1', { id: 'C1', name: 'Amina', phone: '+256700000001', meter: 11 }]]);
  const atZero = new Set<string>();
  const sms: Array<{ to: string; kind: string }> = [];
  const credit = new CreditEventHub();
  const errors: unknown[] = [];
  const loop = new PrepaidLoop({
    events: credit,
    gate,
    customer: (id) => customers.get(id),
    sms: { notify: (to, m) => sms.push({ to, kind: m.kind }) },
    onError: (e) => errors.push(e),
    stillAtZero: (id) => atZero.has(id),
  });
  loop.start();
  return { clock, gate, audit, loop, credit, atZero, sms, errors, switched };
}

test('a disconnect refused at night is proposed again at 09:00 the next weekday while the customer is still at zero', async (t) => {
  const s = setUp(t, TUESDAY_NIGHT);
  s.atZero.add('C1');
  s.credit.emit('zero', { customer: 'C1', balance: 'UGX 0' });
  await s.loop.idle();
  assert.equal(s.gate.list('pending').length, 0);
  assert.match(s.audit.list().at(-1)?.detail ?? '', /no disconnects between 18:00 and 08:00/);
  assert.deepEqual(s.loop.deferredCustomers(), ['C1']);
  assert.equal(s.sms.length, 0, 'no warning for a disconnect that is not going to happen tonight');

  // Still night: the re-check changes nothing and audits nothing new.
  s.clock.now = TUESDAY_NIGHT + 3 * 3600_000;
  const auditBefore = s.audit.list().length;
  assert.equal(await s.loop.recheck(), 0);
  assert.equal(s.audit.list().length, auditBefore);

  // 09:00 Wednesday: proposed again (supervised, so it waits for an operator) and the customer is warned.
  s.clock.now = WEDNESDAY_MORNING;
  assert.equal(await s.loop.recheck(), 1);
  const [p] = s.gate.list('pending');
  assert.ok(p);
  assert.deepEqual([p.capability, p.asset], ['disconnect', { customer: 'C1', meter: 11 }]);
  assert.deepEqual(
    s.sms.map((m) => m.kind),
    ['disconnect-warning'],
  );
  assert.deepEqual(s.loop.deferredCustomers(), []);
  // Once proposed it is not proposed again by later re-checks.
  assert.equal(await s.loop.recheck(), 0);
  assert.equal(s.gate.list('pending').length, 1);
  assert.deepEqual(s.errors, []);
});

test('at L3 the re-check disconnects; a customer who paid or is already disconnected is not re-proposed; weekends wait for Monday', async (t) => {
  const s = setUp(t, FRIDAY_NIGHT);
  s.gate.setAutonomy('disconnect', 'L3', 'admin');
  s.atZero.add('C1');
  s.credit.emit('zero', { customer: 'C1', balance: 'UGX 0' });
  await s.loop.idle();
  s.clock.now = Date.parse('2026-04-11T10:00:00+03:00'); // Saturday 10:00: a no-disconnect weekday
  assert.equal(await s.loop.recheck(), 0);
  s.clock.now = Date.parse('2026-04-13T09:00:00+03:00'); // Monday 09:00
  assert.equal(await s.loop.recheck(), 1);
  assert.deepEqual(s.switched, ['open']);
  assert.equal(s.gate.isDisconnected(11), true);
  // Already disconnected: a zero event at night proposes nothing (disconnects are level-triggered), nothing waits for the morning.
  s.clock.now = Date.parse('2026-04-13T22:00:00+03:00');
  s.credit.emit('zero', { customer: 'C1', balance: 'UGX 0' });
  await s.loop.idle();
  assert.deepEqual(s.loop.deferredCustomers(), []);
  s.clock.now = Date.parse('2026-04-14T09:00:00+03:00');
  assert.equal(await s.loop.recheck(), 0);
  assert.deepEqual(s.switched, ['open']);
  assert.deepEqual(s.loop.deferredCustomers(), []);

  // Paid at night: nothing is re-proposed in the morning.
  const p = setUp(t, TUESDAY_NIGHT);
  p.atZero.add('C1');
  p.credit.emit('zero', { customer: 'C1', balance: 'UGX 0' });
  await p.loop.idle();
  p.atZero.delete('C1');
  p.credit.emit('positive', { customer: 'C1', balance: 'UGX 5,000', amount: 'UGX 5,000' });
  p.clock.now = WEDNESDAY_MORNING;
  assert.equal(await p.loop.recheck(), 0);
  assert.equal(p.gate.list('pending').length, 0);

  // Credit back above zero without an event (e.g. a correction): the re-check asks and drops it.
  const q = setUp(t, TUESDAY_NIGHT);
  q.atZero.add('C1');
  q.credit.emit('zero', { customer: 'C1', balance: 'UGX 0' });
  await q.loop.idle();
  q.atZero.delete('C1');
  q.clock.now = WEDNESDAY_MORNING;
  assert.equal(await q.loop.recheck(), 0);
  assert.deepEqual(q.loop.deferredCustomers(), []);
});
