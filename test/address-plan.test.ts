import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressPlan, checkAddress, suggestAddress, type AddressCheck, type UsedAddress } from '../src/commissioning/address-plan.js';
import { commissioningConfigSchema } from '../src/commissioning/commissioning-config.js';
import { configuredAddresses } from '../src/commissioning/inventory/site.js';
import { siteConfigSchema } from '../src/config/site-config.js';

const RANGES = commissioningConfigSchema.parse({}).addressPlan;
const A = { site: 'Office Building A', bus: 'main' };
const used = (address: number, bus = 'main', by = `meter at ${address}`, site = A.site): UsedAddress => ({ site, bus, address, by });

function refusal(r: AddressCheck): string {
  assert.equal(r.ok, false, 'expected a refusal');
  return r.reason;
}

test('default ranges follow the guide: single-phase 2-99, three-phase 100-247', () => {
  assert.deepEqual(RANGES, { singlePhase: { min: 2, max: 99 }, threePhase: { min: 100, max: 247 } });
  for (const a of [2, 50, 99]) assert.deepEqual(checkAddress(RANGES, [], A, 1, a), { ok: true });
  for (const a of [100, 200, 247]) assert.deepEqual(checkAddress(RANGES, [], A, 3, a), { ok: true });
  assert.match(refusal(checkAddress(RANGES, [], A, 1, 100)), /address 100 is outside the single-phase range; a single-phase meter uses 2-99/);
  assert.match(refusal(checkAddress(RANGES, [], A, 3, 99)), /address 99 is outside the three-phase range; a three-phase meter uses 100-247/);
  assert.match(refusal(checkAddress(RANGES, [], A, 3, 248)), /not a Modbus address; a three-phase meter uses 100-247/);
  assert.match(refusal(checkAddress(RANGES, [], A, 1, 0)), /not a Modbus address/);
  assert.match(refusal(checkAddress(RANGES, [], A, 1, 2.5)), /not a Modbus address/);
});

test('address 1 is never assigned, whatever the ranges say', () => {
  const r = checkAddress(RANGES, [], A, 1, 1);
  assert.match(refusal(r), /address 1 is the factory default of every new meter and is never assigned; a single-phase meter uses 2-99/);
  assert.equal(r.ok ? null : r.code, 'reserved');
});

test('no duplicate on a bus; the same address on another bus or at another site is fine', () => {
  const taken = [used(5, 'main', 'configured meter floor1 (id 5)')];
  const r = checkAddress(RANGES, taken, A, 1, 5);
  assert.match(refusal(r), /address 5 is already used on bus main of Office Building A by configured meter floor1 \(id 5\); the next free one is 2/);
  assert.equal(r.ok ? null : r.code, 'taken');
  assert.deepEqual(checkAddress(RANGES, taken, { ...A, bus: 'east' }, 1, 5), { ok: true });
  assert.deepEqual(checkAddress(RANGES, taken, { site: 'Clinic B', bus: 'main' }, 1, 5), { ok: true });
  // Site names are typed by people: letter case and spaces do not make a second site.
  assert.equal(checkAddress(RANGES, taken, { site: ' office building a ', bus: 'main' }, 1, 5).ok, false);
});

test('suggestions skip used addresses and never give 1', () => {
  assert.equal(suggestAddress(RANGES, [], A, 1), 2);
  assert.equal(suggestAddress(RANGES, [], A, 3), 100);
  assert.equal(suggestAddress(RANGES, [used(2), used(3), used(5)], A, 1), 4);
  assert.equal(suggestAddress(RANGES, [used(100), used(101)], A, 3), 102);
  assert.equal(suggestAddress(RANGES, [used(2, 'east')], A, 1), 2, 'another bus does not count');
  const full = Array.from({ length: 98 }, (_, i) => used(i + 2));
  assert.equal(suggestAddress(RANGES, full, A, 1), null);
  assert.match(refusal(checkAddress(RANGES, full, A, 1, 7)), /no single-phase address is free on this bus/);
  assert.equal(suggestAddress(RANGES, full, A, 3), 100);
});

test('ignore and extra let a meter be re-checked without itself, and a file against its own rows', () => {
  const mine = { ...used(7), serial: '200322016690' };
  assert.deepEqual(checkAddress(RANGES, [mine], A, 1, 7, { ignore: (u) => u.serial === '200322016690' }), { ok: true });
  assert.equal(checkAddress(RANGES, [], A, 1, 8, { extra: [used(8, 'main', 'row 3')] }).ok, false);
  assert.equal(suggestAddress(RANGES, [mine], A, 1, { extra: [used(2)] }), 3);
});

test('configured ranges replace the defaults (the guide’s sheet uses 10-99 for single-phase)', () => {
  const ranges = commissioningConfigSchema.parse({ addressPlan: { singlePhase: { min: 10, max: 99 }, threePhase: { min: 150, max: 160 } } }).addressPlan;
  assert.equal(suggestAddress(ranges, [], A, 1), 10);
  assert.equal(suggestAddress(ranges, [used(150)], A, 3), 151);
  assert.match(refusal(checkAddress(ranges, [], A, 1, 9)), /a single-phase meter uses 10-99/);
  assert.match(refusal(checkAddress(ranges, [], A, 3, 161)), /a three-phase meter uses 150-160/);
  assert.throws(() => commissioningConfigSchema.parse({ addressPlan: { singlePhase: { min: 1, max: 99 } } }), /address|>=|too small/i);
});

test('the bound plan reads the used list at each call and configured meters come from the site file', () => {
  const config = siteConfigSchema.parse({
    site: { id: 'a', name: 'Office Building A' },
    buses: [
      { id: 'main', transport: 'tcp', host: 'gw', port: 502 },
      { id: 'east', transport: 'tcp', host: 'gw2', port: 502 },
    ],
    meters: [
      { id: 2, name: 'reception', type: 'DDSU666' },
      { id: 100, name: 'supply', type: 'DTSU666' },
      { id: 3, name: 'east_shop', type: 'DDSU666', bus: 'east', address: 2 },
    ],
  });
  const configured = configuredAddresses(config);
  assert.deepEqual(
    configured.map((u) => `${u.bus}:${u.address}`),
    ['main:2', 'main:100', 'east:2'],
  );
  const list: UsedAddress[] = [...configured];
  const plan = addressPlan(RANGES, () => list);
  assert.equal(plan.suggest(A, 1), 3);
  assert.equal(plan.suggest({ ...A, bus: 'east' }, 1), 3);
  assert.equal(plan.suggest(A, 3), 101);
  list.push(used(3));
  assert.equal(plan.suggest(A, 1), 4);
  assert.match(refusal(plan.check(A, 1, 2)), /configured meter reception \(id 2\)/);
});
