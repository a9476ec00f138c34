import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type DecisionContext } from '../src/governance/decide.js';
import { disconnectPolicySchema, type AutonomyLevel, type Capability, type ProposalInput } from '../src/governance/types.js';

const policy = disconnectPolicySchema.parse({ holidays: ['2026-12-25'] }); // Kampala, nights 18:00-08:00, weekends
const kampala = (date: string, hhmm: string): number => Date.parse(`${date}T${hhmm}:00+03:00`);
const TUE = '2026-04-07';

interface Case {
  readonly name: string;
  readonly capability?: Capability;
  readonly by?: 'system' | 'user';
  readonly at?: number;
  readonly level?: AutonomyLevel;
  readonly protectedCustomer?: boolean;
  readonly held?: boolean;
  readonly outcome: 'refuse' | 'needs-approval' | 'execute';
  readonly why?: RegExp;
}

const cases: Case[] = [
  { name: 'weekday morning, supervised', outcome: 'needs-approval', why: /L2/ },
  { name: 'window opens at 08:00', at: kampala(TUE, '08:00'), outcome: 'needs-approval' },
  { name: 'last minute before the night', at: kampala(TUE, '17:59'), outcome: 'needs-approval' },
  { name: 'night starts at 18:00', at: kampala(TUE, '18:00'), outcome: 'refuse', why: /between 18:00 and 08:00 \(2026-04-07 18:00 Africa\/Kampala\)/ },
  { name: 'just after midnight (window wraps)', at: kampala('2026-04-08', '00:30'), outcome: 'refuse', why: /18:00 and 08:00/ },
  { name: 'just before 08:00', at: kampala(TUE, '07:59'), outcome: 'refuse' },
  { name: 'Saturday daytime', at: kampala('2026-04-11', '10:00'), outcome: 'refuse', why: /Saturday/ },
  { name: 'Sunday daytime', at: kampala('2026-04-12', '10:00'), outcome: 'refuse', why: /Sunday/ },
  { name: 'holiday on a Friday', at: kampala('2026-12-25', '10:00'), outcome: 'refuse', why: /holidays/ },
  { name: 'protected customer, system proposal', protectedCustomer: true, level: 'L3', outcome: 'refuse', why: /protected/ },
  { name: 'protected customer, an operator commands it', protectedCustomer: true, by: 'user', outcome: 'execute' },
  { name: 'L3 autonomous executes within policy', level: 'L3', outcome: 'execute', why: /L3/ },
  { name: 'L3 still respects the night', level: 'L3', at: kampala(TUE, '22:00'), outcome: 'refuse' },
  { name: 'L1 refuses system proposals', level: 'L1', outcome: 'refuse', why: /L1/ },
  { name: 'L1 accepts a person', level: 'L1', by: 'user', outcome: 'execute' },
  { name: 'an operator hold keeps the relay closed', held: true, by: 'user', outcome: 'refuse', why: /override/ },
  { name: 'reconnect at night', capability: 'reconnect', at: kampala(TUE, '23:00'), outcome: 'execute' },
  {
    name: 'reconnect by a person on a holiday at L1',
    capability: 'reconnect',
    level: 'L1',
    by: 'user',
    at: kampala('2026-12-25', '03:00'),
    outcome: 'execute',
  },
  { name: 'L1: the system never reconnects by itself', capability: 'reconnect', level: 'L1', outcome: 'refuse', why: /L1/ },
  {
    name: 'reconnect of a held, protected customer',
    capability: 'reconnect',
    held: true,
    protectedCustomer: true,
    outcome: 'execute',
    why: /rule restore-supply/,
  },
];

for (const c of cases) {
  test(`gate: ${c.name} -> ${c.outcome}`, () => {
    const p: ProposalInput = {
      capability: c.capability ?? 'disconnect',
      asset: { customer: 'C1', meter: 2 },
      reason: 'balance zero',
      proposedBy: c.by === 'user' ? { kind: 'user', username: 'op' } : { kind: 'system' },
    };
    const ctx: DecisionContext = {
      policy,
      autonomy: c.level ?? 'L2',
      protectedCustomer: c.protectedCustomer ?? false,
      heldClosed: c.held ?? false,
      nowMs: c.at ?? kampala(TUE, '10:00'),
    };
    const d = decide(p, ctx);
    assert.equal(d.outcome, c.outcome, d.why);
    if (c.why) assert.match(d.why, c.why);
  });
}

test("gate: the time zone is the site's, not the server's", () => {
  const lagos = disconnectPolicySchema.parse({ timeZone: 'Africa/Lagos' }); // UTC+1
  const at = Date.parse('2026-04-07T17:30:00Z'); // 20:30 in Kampala, 18:30 in Lagos, 17:30 UTC
  const p: ProposalInput = { capability: 'disconnect', asset: { customer: 'C1', meter: 2 }, reason: 'x', proposedBy: { kind: 'system' } };
  const base = { autonomy: 'L2' as const, protectedCustomer: false, heldClosed: false, nowMs: at };
  assert.equal(decide(p, { ...base, policy: lagos }).outcome, 'refuse');
  assert.equal(decide(p, { ...base, policy: disconnectPolicySchema.parse({ timeZone: 'UTC' }) }).outcome, 'needs-approval');
});
