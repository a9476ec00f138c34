import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePdu } from '../src/sim/pdu.js';
import { SimulatedRelayModule } from '../src/sim/relay-module.js';
import { SiteModel } from '../src/sim/site-model.js';

const T0 = Date.UTC(2026, 3, 7, 7, 0, 0);

function module(wiring: 'nc' | 'no' = 'nc') {
  const model = new SiteModel({ customers: 2, clock: () => T0 });
  const ids = model.customers.map((c) => c.id);
  return { model, ids, m: new SimulatedRelayModule({ address: 9, channels: 8, model, wiredTo: ids, wiring }) };
}

const hex = (b: Buffer): string => b.toString('hex');

test('relay module PDUs: FC01 bitmap, FC05 on/off/toggle, FC15 many, and the load follows the coil', () => {
  const { model, ids, m } = module();
  const [a = 0, b = 0] = ids;
  assert.equal(hex(servePdu(m, Buffer.from('0100000008', 'hex'))), '010100', 'power-on: all coils off');
  assert.ok(model.isLoadConnected(a) && model.isLoadConnected(b), 'NC wiring: coils off = supplied');
  assert.equal(hex(servePdu(m, Buffer.from('050000ff00', 'hex'))), '050000ff00', 'FC05 echoes the request');
  assert.equal(model.isLoadConnected(a), false);
  assert.equal(hex(servePdu(m, Buffer.from('0500015500', 'hex'))), '0500015500', 'vendor toggle 0x5500 is accepted');
  assert.equal(model.isLoadConnected(b), false);
  assert.equal(hex(servePdu(m, Buffer.from('0100000008', 'hex'))), '010103');
  assert.equal(hex(servePdu(m, Buffer.from('0f0000000801fe', 'hex'))), '0f00000008', 'FC15 reply: start and count');
  assert.ok(model.isLoadConnected(a), 'bit 0 = relay 1 off again');
  assert.equal(model.isLoadConnected(b), false);
  assert.equal(hex(servePdu(m, Buffer.from('0100000008', 'hex'))), '0101fe');
});

test('relay module PDUs: bad values and addresses are exceptions, and register reads are refused', () => {
  const { m } = module();
  assert.equal(hex(servePdu(m, Buffer.from('0500001234', 'hex'))), '8503');
  assert.equal(hex(servePdu(m, Buffer.from('050008ff00', 'hex'))), '8502');
  assert.equal(hex(servePdu(m, Buffer.from('0100000009', 'hex'))), '8102');
  assert.equal(hex(servePdu(m, Buffer.from('0300000001', 'hex'))), '8302');
});

test('NO wiring: the customer is supplied only while the coil is on', () => {
  const { model, ids } = module('no');
  assert.equal(model.isLoadConnected(ids[0] ?? 0), false, 'NO wiring and power-on coils off: disconnected (why NC is the safe default)');
});
