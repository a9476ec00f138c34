import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldBack } from '../src/edge/held-back.js';
import type { Proposal } from '../src/edge/proposal.js';
import { resolve } from '../src/edge/resolver.js';

// A controller's status says when the resolver could not give it its target, and what held it.

const STORAGE: Proposal = {
  kind: 'target',
  target: 'ess0/SetActivePower',
  value: 3000,
  criticality: 'supply-quality',
  source: 'utility',
  why: 'storage target discharge 3000 W',
};
const SOC_MIN: Proposal = {
  kind: 'bound',
  target: 'ess0/SetActivePower',
  max: 0,
  criticality: 'safety',
  source: 'envelope',
  why: 'ess0 SoC 10 % at its minimum 10 %: no discharge',
};

test("the safety envelope's SoC floor holds the utility's storage target at 0 W: the utility's status says so", () => {
  const proposals = [STORAGE, SOC_MIN];
  const held = heldBack('utility', proposals, resolve(proposals));
  assert.deepEqual(held, ['ess0/SetActivePower held at 0 instead of 3000 by envelope (ess0 SoC 10 % at its minimum 10 %: no discharge)']);
});

test('a target met, another source held back, or a bound of its own: nothing to add', () => {
  const met = [STORAGE, { ...SOC_MIN, max: 5000 }];
  assert.deepEqual(heldBack('utility', met, resolve(met)), [], 'within the bound');
  const own = [STORAGE, { ...SOC_MIN, source: 'utility', criticality: 'supply-quality' as const }];
  assert.deepEqual(heldBack('utility', own, resolve(own)), [], "the controller's own bound is its own doing (its status already says)");
  const other = [STORAGE, SOC_MIN];
  assert.deepEqual(heldBack('self', other, resolve(other)), [], 'only the controller whose target it was');
});
