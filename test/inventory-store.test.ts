import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { UsedAddress } from '../src/commissioning/address-plan.js';
import { commissioningConfigSchema } from '../src/commissioning/commissioning-config.js';
import { InventoryError } from '../src/commissioning/inventory/error.js';
import { modelsFromProfiles } from '../src/commissioning/inventory/fields.js';
import { STATUSES, type InventoryStatus } from '../src/commissioning/inventory/status.js';
import { InventoryStore, type InventoryOptions } from '../src/commissioning/inventory/store.js';
import { inventoryOptionsFor } from '../src/commissioning/inventory/site.js';
import { siteConfigSchema } from '../src/config/site-config.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { openDatabase } from '../src/store/database.js';
import { tempDb } from './helpers/temp-db.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-04-01T09:00:00Z');
const SITE = 'Office Building A';

function setup(t: { after: (fn: () => void) => void }, extra: Partial<InventoryOptions> = {}) {
  const clock = { now: T0 };
  const store = new InventoryStore(tempDb(t), {
    commissioning: commissioningConfigSchema.parse({}),
    localSite: SITE,
    buses: ['main', 'east'],
    now: () => clock.now,
    ...extra,
  });
  return { store, clock };
}

/** Expects an InventoryError of `kind` whose message matches. */
function refused(fn: () => unknown, kind: InventoryError['kind'], message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InventoryError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const FORWARD: readonly InventoryStatus[] = ['Unassigned', 'Assigned', 'Converted', 'Shipped', 'Installed', 'Commissioned'];

/** Takes a new meter to `status` along the workflow (Decommissioned straight from Unassigned). */
function bring(store: InventoryStore, serial: string, status: InventoryStatus, address: number): void {
  store.create({ serial, model: 'DDSU666', building: 'Floor 1' }, 'dev');
  const path = status === 'Decommissioned' ? ['Decommissioned' as const] : FORWARD.slice(1, FORWARD.indexOf(status) + 1);
  for (const to of path)
    store.transition(
      serial,
      { to, reason: `step to ${to}`, address: to === 'Assigned' ? address : undefined, bus: to === 'Commissioned' ? 'main' : undefined },
      'dev',
    );
}

// Written out here rather than read from TRANSITIONS, so a change to the table must change this test too.
const ALLOWED = new Set([
  'Unassigned>Assigned',
  'Assigned>Converted',
  'Converted>Shipped',
  'Shipped>Installed',
  'Installed>Commissioned',
  ...['Unassigned', 'Assigned', 'Converted', 'Shipped', 'Installed', 'Commissioned'].map((s) => `${s}>Decommissioned`),
]);

test('every transition: the allowed ones succeed, every other one is refused naming the state and what is allowed', (t) => {
  const { store } = setup(t);
  let n = 0;
  for (const from of STATUSES) {
    for (const to of STATUSES) {
      n++;
      const serial = String(200000000000 + n);
      bring(store, serial, from, 1 + n);
      const before = store.history(serial).length;
      const req = { to, reason: 'table test', address: to === 'Assigned' ? 1 + n : undefined, bus: to === 'Commissioned' ? 'main' : undefined };
      if (ALLOWED.has(`${from}>${to}`)) {
        assert.equal(store.transition(serial, req, 'tester').status, to, `${from} -> ${to}`);
        assert.equal(store.history(serial).length, before + 1);
      } else {
        const allowed = [...ALLOWED].filter((k) => k.startsWith(`${from}>`)).map((k) => k.split('>')[1]);
        const expected = allowed.length ? `allowed from ${from}: ${allowed.join(', ')}` : `${from} is final; nothing is allowed from it`;
        refused(() => store.transition(serial, req, 'tester'), 'conflict', new RegExp(`meter ${serial} is ${from} and cannot go to ${to}; ${expected}$`));
        assert.equal(store.get(serial)?.status, from, 'a refused move changes nothing');
        assert.equal(store.history(serial).length, before, 'and writes no history');
      }
    }
  }
  assert.equal(n, 49);
});

test('who, when and why of every step is in the append-only history and in the stage stamps', (t) => {
  const { store, clock } = setup(t);
  store.create({ serial: '200322016690', model: 'DDSU666', building: 'Floor 1 Reception', reason: 'batch 12 from supplier' }, 'dev_anna');
  const steps: Array<[InventoryStatus, string, string]> = [
    ['Assigned', 'dev_anna', 'site plan v2'],
    ['Converted', 'jane', 'converted in the lab'],
    ['Shipped', 'jane', 'courier 4471'],
    ['Installed', 'john', 'wired to the DB board'],
    ['Commissioned', 'alice', 'logging since 10:00'],
    ['Decommissioned', 'admin', 'customer moved out'],
  ];
  steps.forEach(([to, by, reason], i) => {
    clock.now = T0 + (i + 1) * DAY;
    store.transition('200322016690', { to, reason, address: to === 'Assigned' ? 2 : undefined, bus: to === 'Installed' ? 'main' : undefined }, by);
  });
  const h = store.history('200322016690');
  assert.deepEqual(
    h.map((e) => [e.action, e.from, e.to, e.by, e.reason, e.at]),
    [
      ['created', null, 'Unassigned', 'dev_anna', 'batch 12 from supplier', T0],
      ...steps.map(([to, by, reason], i) => ['transition', i === 0 ? 'Unassigned' : steps[i - 1]?.[0], to, by, reason, T0 + (i + 1) * DAY]),
    ],
  );
  assert.deepEqual(h[1]?.changes, { address: [null, 2], status: ['Unassigned', 'Assigned'] });
  assert.deepEqual(h[4]?.changes, { bus: [null, 'main'], status: ['Shipped', 'Installed'] });
  const m = store.require('200322016690');
  assert.equal(m.status, 'Decommissioned');
  assert.deepEqual(m.stages.Converted, { at: T0 + 2 * DAY, by: 'jane' });
  assert.deepEqual(m.stages.Commissioned, { at: T0 + 5 * DAY, by: 'alice' });
  assert.equal(m.address, 2, 'the record keeps its last address');
  assert.deepEqual(store.usedAddresses(), [], 'but a decommissioned meter no longer holds it');
});

test('the history table refuses updates and deletes', (t) => {
  const db = tempDb(t);
  const store = new InventoryStore(db, { commissioning: commissioningConfigSchema.parse({}) });
  store.create({ serial: '200322016690', model: 'DDSU666' }, 'dev');
  assert.throws(() => db.prepare("UPDATE inventory_history SET by = 'someone else'").run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM inventory_history').run(), /append-only/);
});

test('-> Assigned needs an address the plan allows; -> Commissioned needs a bus', (t) => {
  const configured: UsedAddress[] = [{ site: SITE, bus: 'main', address: 2, by: 'configured meter reception (id 2)' }];
  const { store } = setup(t, { configured: () => configured });
  store.create({ serial: '200322016690', model: 'DDSU666' }, 'dev');
  store.create({ serial: '200415023456', model: 'DTSU666' }, 'dev');
  const assign = (serial: string, address?: number, bus?: string) => store.transition(serial, { to: 'Assigned', reason: 'plan', address, bus }, 'dev');
  refused(() => assign('200322016690'), 'invalid', /^address: assigning needs an address; the next free one on this bus is 3$/);
  refused(() => assign('200322016690', 1), 'invalid', /address 1 is the factory default/);
  refused(() => assign('200322016690', 100), 'invalid', /outside the single-phase range; a single-phase meter uses 2-99/);
  refused(() => assign('200415023456', 50), 'invalid', /outside the three-phase range; a three-phase meter uses 100-247/);
  refused(
    () => assign('200322016690', 2),
    'conflict',
    /already used on bus main of Office Building A by configured meter reception \(id 2\); the next free one is 3/,
  );
  refused(() => assign('200322016690', 3, 'west'), 'invalid', /bus: no bus "west" at Office Building A; allowed: main, east/);
  assert.equal(assign('200322016690', 2, 'east').address, 2, 'address 2 is free on the other bus');
  assert.equal(assign('200415023456', 100).address, 100);
  store.create({ serial: '200322016691', model: 'DDSU666' }, 'dev');
  refused(() => assign('200322016691', 2, 'east'), 'conflict', /by inventory meter 200322016690 \(Assigned\)/);
  refused(
    () => store.transition('200415023456', { to: 'Converted', reason: 'x', address: 101 }, 'dev'),
    'invalid',
    /address: an address is given only when assigning/,
  );
  refused(() => store.transition('200415023456', { to: 'Converted', reason: '  ' }, 'dev'), 'invalid', /^reason: say why/);

  for (const to of ['Converted', 'Shipped', 'Installed'] as const) store.transition('200415023456', { to, reason: 'on', bus: undefined }, 'ops');
  refused(
    () => store.transition('200415023456', { to: 'Commissioned', reason: 'live' }, 'alice'),
    'invalid',
    /^bus: commissioning needs the bus the meter is wired to; allowed: main, east$/,
  );
  configured.push({ site: SITE, bus: 'main', address: 100, by: 'configured meter supply (id 100)' });
  const live = store.transition('200415023456', { to: 'Commissioned', reason: 'live', bus: 'main' }, 'alice');
  assert.equal(live.bus, 'main', 'the configured meter at its address is this meter, added to the config when commissioning');
});

test('moving to another bus re-checks the address there', (t) => {
  const { store } = setup(t);
  store.create({ serial: '200322016690', model: 'DDSU666', address: 5, bus: 'east' }, 'dev');
  store.create({ serial: '200322016691', model: 'DDSU666', address: 5 }, 'dev');
  store.transition('200322016691', { to: 'Converted', reason: 'lab' }, 'jane');
  refused(
    () => store.transition('200322016691', { to: 'Shipped', reason: 'to site', bus: 'east' }, 'jane'),
    'conflict',
    /address 5 is already used on bus east/,
  );
  assert.equal(store.require('200322016691').status, 'Converted');
});

test('create: with an address the meter is Assigned at once; a known serial is refused', (t) => {
  const { store } = setup(t);
  const m = store.create({ serial: '200322016690', model: 'ddsu666', site: '', building: 'Floor 1', address: 2 }, 'dev');
  assert.equal(m.status, 'Assigned');
  assert.equal(m.model, 'DDSU666');
  assert.equal(m.site, SITE, 'no site given: the local site');
  assert.deepEqual(
    store.history('200322016690').map((e) => e.to),
    ['Unassigned', 'Assigned'],
  );
  refused(() => store.create({ serial: '200322016690', model: 'DDSU666' }, 'dev'), 'conflict', /already in the inventory \(Assigned\)/);
  refused(() => store.create({ serial: '200322016692', model: 'DDSU666', address: 2 }, 'dev'), 'conflict', /already used/);
  assert.equal(store.get('200322016692'), undefined, 'a refused create leaves nothing behind');
  assert.equal(store.create({ serial: '200322016693', model: '3phase' }, 'dev').model, 'DTSU666', 'the config aliases work');
});

test('serials are exactly 12 digits, and the error says so', (t) => {
  const { store } = setup(t);
  const cases: Array<[string, RegExp]> = [
    ['20032201669', /has 11 digits/],
    ['2003220166901', /has 13 digits/],
    ['20032201669O', /contains characters other than digits/],
    ['', /is empty/],
  ];
  for (const [serial, what] of cases) {
    refused(() => store.create({ serial, model: 'DDSU666' }, 'dev'), 'invalid', what);
    refused(() => store.create({ serial, model: 'DDSU666' }, 'dev'), 'invalid', /a meter serial is exactly 12 digits, as printed on the meter label/);
  }
  refused(() => store.get('123'), 'invalid', /exactly 12 digits/);
  refused(() => store.require('999999999999'), 'not-found', /no meter 999999999999 in the inventory/);
});

test('models come from the profiles: DDSU666 single-phase, DTSU666 three-phase, others as their profile says', (t) => {
  const profiles = new Map<string, { phases: 1 | 3 }>(loadProfiles()).set('SDM120', { phases: 1 });
  const models = modelsFromProfiles(profiles);
  assert.equal(models.phasesOf('DDSU666'), 1);
  assert.equal(models.phasesOf('DTSU666'), 3);
  const { store } = setup(t, { models });
  refused(() => store.create({ serial: '200322016690', model: 'XYZ1' }, 'dev'), 'invalid', /model: unknown meter type "XYZ1"; allowed: .*DDSU666/);
  assert.equal(store.create({ serial: '200322016690', model: 'SDM120', address: 9 }, 'dev').status, 'Assigned');
  refused(() => store.create({ serial: '200322016691', model: 'SDM120', address: 120 }, 'dev'), 'invalid', /single-phase/);
});

test('overdue: Assigned over assignedOverdueDays, Installed over installedOverdueDays, against the injected clock', (t) => {
  const { store, clock } = setup(t);
  bring(store, '200322016690', 'Assigned', 2);
  clock.now = T0 + 7 * DAY;
  assert.equal(store.require('200322016690').overdue, false, 'exactly 7 days is not yet overdue');
  clock.now = T0 + 7 * DAY + 1;
  const late = store.require('200322016690');
  assert.equal(late.overdue, true);
  assert.equal(late.overdueReason, 'Assigned 7 days ago; conversion is due within 7 days');
  for (const to of ['Converted', 'Shipped', 'Installed'] as const) store.transition('200322016690', { to, reason: 'go' }, 'ops');
  assert.equal(store.require('200322016690').overdue, false, 'the clock restarts in each stage');
  clock.now += 2 * DAY + 1;
  assert.match(store.require('200322016690').overdueReason ?? '', /^Installed 2 days ago; commissioning is due within 2 days$/);
  store.transition('200322016690', { to: 'Commissioned', reason: 'live', bus: 'main' }, 'alice');
  clock.now += 100 * DAY;
  assert.equal(store.require('200322016690').overdue, false, 'other stages are never overdue');
});

test('overdue days come from the config', (t) => {
  const { store, clock } = setup(t, { commissioning: commissioningConfigSchema.parse({ assignedOverdueDays: 1, installedOverdueDays: 0.5 }) });
  bring(store, '200322016690', 'Assigned', 2);
  bring(store, '200322016691', 'Installed', 3);
  clock.now = T0 + 0.5 * DAY + 1;
  assert.deepEqual(
    store.list({ overdue: true }).map((m) => m.serial),
    ['200322016691'],
  );
  clock.now = T0 + DAY + 1;
  assert.deepEqual(
    store.list({ overdue: true }).map((m) => m.serial),
    ['200322016690', '200322016691'],
  );
  assert.deepEqual(store.list({ overdue: false }), []);
});

test('list filters: status, site, model, overdue and text search', (t) => {
  const { store } = setup(t);
  store.create({ serial: '200322016690', model: 'DDSU666', building: 'Floor 1 Reception', address: 2 }, 'dev');
  store.create({ serial: '200322016691', model: 'DDSU666', site: 'Clinic B', building: 'Pharmacy', notes: 'needs reverse byte toggle' }, 'dev');
  store.create({ serial: '200415023456', model: 'DTSU666', building: 'Main 3-Phase Supply 100%' }, 'dev');
  const serials = (f: Parameters<InventoryStore['list']>[0]) => store.list(f).map((m) => m.serial);
  assert.deepEqual(serials({}), ['200322016690', '200322016691', '200415023456']);
  assert.deepEqual(serials({ status: 'Unassigned' }), ['200322016691', '200415023456']);
  assert.deepEqual(serials({ site: 'clinic b' }), ['200322016691']);
  assert.deepEqual(serials({ model: 'DTSU666' }), ['200415023456']);
  assert.deepEqual(serials({ q: 'REVERSE' }), ['200322016691'], 'notes, any case');
  assert.deepEqual(serials({ q: '2003220166' }), ['200322016690', '200322016691'], 'serial prefix');
  assert.deepEqual(serials({ q: 'reception' }), ['200322016690']);
  assert.deepEqual(serials({ q: '100%' }), ['200415023456'], '% is searched for, not a wildcard');
  assert.deepEqual(serials({ q: '_' }), [], '_ is not a wildcard either');
  assert.deepEqual(serials({ status: 'Assigned', q: 'clinic' }), []);
});

test('edits of notes, building and site are in the history; a site change re-checks the address', (t) => {
  const { store, clock } = setup(t);
  store.create({ serial: '200322016690', model: 'DDSU666', address: 2 }, 'dev');
  store.create({ serial: '200322016691', model: 'DDSU666', site: 'Clinic B', address: 2 }, 'dev');
  clock.now = T0 + 1000;
  store.edit('200322016690', { notes: 'Required reverse byte toggle', building: 'Floor 2' }, 'jane');
  const last = store.history('200322016690').at(-1);
  assert.deepEqual(last && [last.action, last.by, last.at, last.from, last.to, last.changes], [
    'edited',
    'jane',
    T0 + 1000,
    null,
    null,
    { building: ['', 'Floor 2'], notes: ['', 'Required reverse byte toggle'] },
  ]);
  refused(() => store.edit('200322016690', { site: 'Clinic B' }, 'jane'), 'conflict', /address 2 is already used on bus main of Clinic B/);
  const n = store.history('200322016690').length;
  store.edit('200322016690', { notes: 'Required reverse byte toggle' }, 'jane');
  assert.equal(store.history('200322016690').length, n, 'an edit that changes nothing is not recorded');
});

test('options from a site config: its site, buses, configured meters and profile models', (t) => {
  const config = siteConfigSchema.parse({
    site: { id: 'a', name: SITE },
    buses: [{ id: 'main', transport: 'tcp', host: 'gw', port: 502 }],
    meters: [{ id: 2, name: 'reception', type: 'DDSU666' }],
    commissioning: { assignedOverdueDays: 3 },
  });
  const store = new InventoryStore(tempDb(t), inventoryOptionsFor(config, loadProfiles(), { now: () => T0 }));
  const m = store.create({ serial: '200322016690', model: 'DDSU666' }, 'dev');
  assert.equal(m.site, SITE);
  assert.equal(store.addressPlan.suggest(store.slot(SITE, null), 1), 3, 'meter 2 of the config is on the default bus');
  refused(() => store.transition('200322016690', { to: 'Assigned', reason: 'x', address: 2 }, 'dev'), 'conflict', /configured meter reception \(id 2\)/);
  refused(() => store.transition('200322016690', { to: 'Assigned', reason: 'x', address: 3, bus: 'east' }, 'dev'), 'invalid', /allowed: main$/);
});

test('records live in the SQLite file and survive reopening', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-inventory-'));
  try {
    const file = path.join(dir, 'mgos.db');
    const opts = { commissioning: commissioningConfigSchema.parse({}) };
    const db1 = openDatabase(file);
    new InventoryStore(db1, opts).create({ serial: '200322016690', model: 'DDSU666', address: 2 }, 'dev');
    db1.close();
    const db2 = openDatabase(file);
    const again = new InventoryStore(db2, opts);
    assert.equal(again.require('200322016690').address, 2);
    assert.equal(again.history('200322016690').length, 2);
    db2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
