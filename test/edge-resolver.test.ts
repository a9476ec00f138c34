import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from '../src/edge/resolver.js';
import type { Proposal } from '../src/edge/proposal.js';
import { mulberry32 } from '../src/sim/prng.js';

const B = 'ess0/SetActivePower';
const p = (x: Partial<Proposal> & Pick<Proposal, 'kind' | 'criticality' | 'source'>): Proposal => ({ target: B, why: x.source, ...x }) as Proposal;

const proposals: Proposal[] = [
  p({ kind: 'bound', criticality: 'safety', source: 'envelope', min: -5_000, max: 3_000 }),
  p({ kind: 'bound', criticality: 'supply-quality', source: 'zero-export', max: -1_000 }),
  p({ kind: 'target', criticality: 'business', source: 'schedule', value: 2_000 }),
  p({ kind: 'target', criticality: 'optimisation', source: 'self-consumption', value: -4_000 }),
  p({ kind: 'bound', criticality: 'business', source: 'peak-shaving', min: -2_500 }),
  p({ kind: 'target', target: 'pv0/ActivePowerLimit', criticality: 'optimisation', source: 'x', value: 9_000 }),
];

test('resolver: classes narrow in order; the business target is cut by zero export and the record names it', () => {
  const r = resolve(proposals, { 'pv0/ActivePowerLimit': { neutral: 10_000 } });
  const b = r.get(B);
  assert.ok(b);
  assert.equal(b.value, -1_000);
  assert.equal(b.chosenBy?.source, 'schedule');
  assert.deepEqual(
    b.boundBy.map((x) => x.source),
    ['zero-export'],
  );
  assert.deepEqual(b.interval, { min: -2_500, max: -1_000 });
  assert.ok(b.overruled.some((o) => o.source === 'self-consumption' && /already fixed by schedule/.test(o.by)));
  assert.equal(r.get('pv0/ActivePowerLimit')?.value, 9_000);
});

test('resolver: shuffling the proposals (the controllers order) never changes the result', () => {
  const base = JSON.stringify([...resolve(proposals)]);
  const rng = mulberry32(7);
  for (let k = 0; k < 200; k++) {
    const shuffled = [...proposals];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as Proposal, shuffled[i] as Proposal];
    }
    const r = resolve(shuffled);
    assert.equal(JSON.stringify([...r]), base);
  }
});

interface Case {
  readonly name: string;
  readonly ps: Proposal[];
  readonly value: number;
  readonly boundBy?: string[];
  readonly chosenBy?: string | null;
}
const cases: Case[] = [
  {
    name: 'no target: neutral (idle) inside the bounds',
    ps: [p({ kind: 'bound', criticality: 'safety', source: 'env', min: -1_000, max: 1_000 })],
    value: 0,
    chosenBy: null,
  },
  {
    name: 'no target, idle not allowed: the nearest bound, named',
    ps: [p({ kind: 'bound', criticality: 'supply-quality', source: 'zero-export', max: -700 })],
    value: -700,
    boundBy: ['zero-export'],
  },
  {
    name: 'safety beats a lower class that asks for more',
    ps: [
      p({ kind: 'bound', criticality: 'safety', source: 'env', min: 0, max: 0 }),
      p({ kind: 'bound', criticality: 'supply-quality', source: 'droop', min: 2_000 }),
    ],
    value: 0,
    boundBy: ['env'],
  },
  {
    name: 'two targets in one class: the least aggressive wins',
    ps: [
      p({ kind: 'target', criticality: 'optimisation', source: 'a', value: 3_000 }),
      p({ kind: 'target', criticality: 'optimisation', source: 'b', value: -1_500 }),
    ],
    value: -1_500,
    chosenBy: 'b',
  },
  {
    name: 'equal distance: the lower value, whatever the order',
    ps: [p({ kind: 'target', criticality: 'business', source: 'z', value: 1_000 }), p({ kind: 'target', criticality: 'business', source: 'a', value: -1_000 })],
    value: -1_000,
    chosenBy: 'a',
  },
  {
    name: 'contradicting bounds in one class collapse toward idle',
    ps: [
      p({ kind: 'bound', criticality: 'supply-quality', source: 'a', min: 2_000 }),
      p({ kind: 'bound', criticality: 'supply-quality', source: 'b', max: 1_000 }),
    ],
    value: 1_000,
  },
  {
    name: 'a higher-class target pins the value against a lower-class bound',
    ps: [
      p({ kind: 'target', criticality: 'supply-quality', source: 'droop', value: 4_000 }),
      p({ kind: 'bound', criticality: 'business', source: 'ps', max: 1_000 }),
    ],
    value: 4_000,
    chosenBy: 'droop',
  },
];
for (const c of cases) {
  test(`resolver: ${c.name}`, () => {
    const r = resolve(c.ps).get(B);
    assert.ok(r);
    assert.equal(r.value, c.value);
    if (c.boundBy)
      assert.deepEqual(
        r.boundBy.map((b) => b.source),
        c.boundBy,
      );
    if (c.chosenBy !== undefined) assert.equal(r.chosenBy?.source ?? null, c.chosenBy);
    assert.equal(JSON.stringify(resolve([...c.ps].reverse()).get(B)), JSON.stringify(r));
  });
}
