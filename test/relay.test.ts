import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayDriver, RelayError } from '../src/relays/relay-driver.js';
import { RELAY_MODELS } from '../src/relays/relay-models.js';
import { addRelayModule } from '../src/sim/relay-module.js';
import { startSimSite } from './helpers/site.js';

const T0 = Date.UTC(2026, 3, 7, 7, 0, 0); // Tuesday 10:00 in Kampala
const RELAY_UNIT = 120;

async function relaySite() {
  const s = await startSimSite({ customers: 3, sim: { clock: () => T0, seed: 3 }, now: () => T0 });
  const ids = s.sim.model.customers.map((c) => c.id);
  // A fixed load so "consumption resumes" is unambiguous whatever the profile does at 10:00.
  for (const id of ids) s.sim.model.setLoadOverride(id, { watts: 400, powerFactor: 0.95 });
  const module = addRelayModule(s.sim, { address: RELAY_UNIT, wiredTo: ids });
  const bus = s.site.bus('bus1');
  assert.ok(bus);
  const driver = new RelayDriver(bus, RELAY_UNIT, RELAY_MODELS['waveshare-8ch-nc']);
  const [poller] = s.site.pollers();
  assert.ok(poller);
  const powerOf = async (id: number): Promise<number> => {
    await poller.runCycle();
    const v = s.site.image.component(`meter${id}`).ActivePower?.value;
    assert.ok(typeof v === 'number', `meter${id} has no power reading`);
    return v;
  };
  return { s, ids, module, driver, powerOf, bus };
}

test('opening a relay over real Modbus makes the meter read 0 W on the next poll; closing brings the load back', async () => {
  const { s, ids, module, driver, powerOf } = await relaySite();
  try {
    const [first = 0, second = 0] = ids;
    assert.equal(await driver.state(1), 'closed', 'power-on: coils off, NC wiring supplies the customer');
    assert.ok((await powerOf(first)) > 300);
    const opened = await driver.open(1);
    assert.deepEqual(opened, { channel: 1, before: 'closed', after: 'open' });
    assert.equal(module.coil(0), true, 'NC wiring: the coil is energised to disconnect');
    assert.equal(await powerOf(first), 0);
    assert.ok((await powerOf(second)) > 300, 'the neighbour on channel 2 is untouched');
    assert.equal(await driver.state(1), 'open');
    const closed = await driver.close(1);
    assert.equal(closed.after, 'closed');
    assert.ok((await powerOf(first)) > 300);
  } finally {
    await s.close();
  }
});

test('a relay that ignores the write fails loudly on read-back', async () => {
  const { s, module, driver } = await relaySite();
  try {
    module.ignoreWrites = true;
    await assert.rejects(driver.open(2), (e: unknown) => e instanceof RelayError && /channel 2: wrote open .* reads back closed/.test(e.message));
    assert.equal(await driver.state(2), 'closed');
  } finally {
    await s.close();
  }
});

test('writing an unchanged state is skipped, and unknown channels are refused before the bus', async () => {
  const { s, driver, bus } = await relaySite();
  try {
    const before = bus.stats().requests;
    const r = await driver.close(3);
    assert.deepEqual(r, { channel: 3, before: 'closed', after: 'closed' });
    assert.equal(bus.stats().requests - before, 1, 'one read, no write');
    await assert.rejects(driver.open(9), /channels 1-8; got 9/);
  } finally {
    await s.close();
  }
});
