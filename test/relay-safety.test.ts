import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../src/governance/audit-log.js';
import { GovernanceGate } from '../src/governance/gate.js';
import { GovernanceSettings } from '../src/governance/governance-settings.js';
import { ProposalStore } from '../src/governance/proposal-store.js';
import { disconnectPolicySchema } from '../src/governance/types.js';
import { ModbusError } from '../src/modbus/modbus-error.js';
import { RelayBank } from '../src/relays/relay-bank.js';
import { RelayDriver, RelayError, type CoilBus, type RelayFault } from '../src/relays/relay-driver.js';
import { RelayRefused, RelayWriteGuard } from '../src/relays/relay-guard.js';
import { RELAY_MODELS } from '../src/relays/relay-models.js';
import { tempDb } from './helpers/temp-db.js';

/** These cases start supervised (L2), as a site seeded with governance.disconnectAutonomy: supervised; the seed's own default is L3. */
function supervised(s: GovernanceSettings): GovernanceSettings {
  s.setSiteLevel('test', 'L2');
  return s;
}

const T0 = Date.UTC(2026, 3, 7, 7, 0, 0); // Tuesday 10:00 in Kampala
const NC = RELAY_MODELS['waveshare-8ch-nc'];

/** An in-memory relay module: coils, optional stuck writes or an exception answer. */
class FakeCoils implements CoilBus {
  readonly coils = [false, false, false, false, false, false, false, false];
  writes = 0;
  stuck = false;
  exception: number | null = null;
  readCoils(_unit: number, start: number, count: number): Promise<boolean[]> {
    return Promise.resolve(this.coils.slice(start, start + count));
  }
  writeCoil(_unit: number, coil: number, on: boolean): Promise<void> {
    if (this.exception !== null) return Promise.reject(new ModbusError('exception', `exception ${this.exception}`, this.exception));
    this.writes++;
    if (!this.stuck) this.coils[coil] = on;
    return Promise.resolve();
  }
}

test('relay guard: minimum dwell between changes of a channel; restoring supply is not held back by the dwell', async (t) => {
  const db = tempDb(t);
  let now = T0;
  const bus = new FakeCoils();
  const faults: RelayFault[] = [];
  const guard = new RelayWriteGuard(db, { minDwellMs: 15 * 60_000, dailyWriteBudget: 20, now: () => now, timeZone: 'Africa/Kampala' });
  const driver = new RelayDriver(bus, 200, NC, { guard, name: 'bus1/200', onFault: (f) => faults.push(f) });

  assert.deepEqual(await driver.open(1), { channel: 1, before: 'closed', after: 'open' });
  assert.deepEqual(await driver.close(1), { channel: 1, before: 'open', after: 'closed' }, 'a reconnect skips the dwell');
  now += 5 * 60_000;
  await assert.rejects(driver.open(1), (e: unknown) => e instanceof RelayRefused && e.reason === 'dwell' && /minimum dwell is 900 s/.test(e.message));
  assert.equal(bus.writes, 2, 'the refused change wrote nothing');
  assert.equal(faults.at(-1)?.kind, 'refused');
  assert.equal(faults.at(-1)?.module, 'bus1/200');
  // Another channel of the same module has its own dwell.
  assert.equal((await driver.open(2)).after, 'open');
  now += 10 * 60_000;
  assert.equal((await driver.open(1)).after, 'open', 'after the dwell the change goes through');
  // Already in the wanted state: no write, so neither dwell nor budget apply.
  assert.equal((await driver.open(1)).before, 'open');
  assert.equal(bus.writes, 4);
});

test('relay guard: daily write budget per channel, persisted over restarts, renewed the next local day; the gate audits the refusal', async (t) => {
  const db = tempDb(t);
  let now = T0;
  const bus = new FakeCoils();
  const opts = { minDwellMs: 0, dailyWriteBudget: 3, now: () => now, timeZone: 'Africa/Kampala' };
  const faults: RelayFault[] = [];
  let driver = new RelayDriver(bus, 200, NC, { guard: new RelayWriteGuard(db, opts), name: 'bus1/200', onFault: (f) => faults.push(f) });
  await driver.open(1);
  await driver.close(1);
  // A restart: a new guard on the same database still knows today's two writes.
  driver = new RelayDriver(bus, 200, NC, { guard: new RelayWriteGuard(db, opts), name: 'bus1/200', onFault: (f) => faults.push(f) });
  await driver.open(1);
  await assert.rejects(driver.close(1), (e: unknown) => e instanceof RelayRefused && e.reason === 'budget' && /daily write budget of 3/.test(e.message));
  assert.equal(bus.writes, 3);
  assert.equal(faults.at(-1)?.kind, 'refused');

  // Through the governance gate, the refusal is audited as such and the proposal fails with the reason.
  const relays = new RelayBank();
  relays.wire(7, { driver, channel: 1 });
  const audit = new AuditLog(db);
  const gate = new GovernanceGate({
    site: 'test',
    policy: disconnectPolicySchema.parse({}),
    proposals: new ProposalStore(db),
    settings: supervised(new GovernanceSettings(db)),
    audit,
    relays,
    isProtected: () => false,
    clock: () => now,
  });
  const r = await gate.propose({ capability: 'reconnect', asset: { customer: 'C1', meter: 7 }, reason: 'paid', proposedBy: { kind: 'system' } });
  assert.ok(r.created);
  assert.equal(r.proposal.state, 'failed');
  const last = audit.list().at(-1);
  assert.equal(last?.action, 'relay-refused');
  assert.match(last.detail, /daily write budget/);

  // Next local day (Kampala midnight = 21:00 UTC): the budget is fresh.
  now = Date.UTC(2026, 3, 7, 21, 0, 0);
  assert.equal((await driver.close(1)).after, 'closed');
});

test('relay faults: a read-back mismatch and a Modbus exception are reported to onFault (for an alarm) and still thrown', async () => {
  const bus = new FakeCoils();
  const faults: RelayFault[] = [];
  const driver = new RelayDriver(bus, 201, NC, { onFault: (f) => faults.push(f) });
  bus.stuck = true;
  await assert.rejects(driver.open(3), RelayError);
  assert.equal(faults.length, 1);
  assert.deepEqual([faults[0]?.kind, faults[0]?.module, faults[0]?.unit, faults[0]?.channel], ['mismatch', 'unit 201', 201, 3]);
  assert.match(faults[0]?.message ?? '', /reads back closed/);
  bus.stuck = false;
  bus.exception = 4;
  await assert.rejects(driver.open(3), ModbusError);
  assert.equal(faults[1]?.kind, 'exception');
  assert.equal(faults[1].exceptionCode, 4);
  // A listener that throws does not replace the relay's own error.
  const loud = new RelayDriver(bus, 201, NC, {
    onFault: () => {
      throw new Error('sink down');
    },
  });
  await assert.rejects(loud.open(3), ModbusError);
});
