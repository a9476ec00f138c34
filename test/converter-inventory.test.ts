import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { serveBench } from '../src/sim/bench-server.js';
import { startSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';

test('a bench conversion through the running system moves the meter from Assigned to Converted in the inventory', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-conv-inv-'));
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 12.5 });
  // The bench is a configured gateway: the converter opens nothing else.
  const sys = await startSystem({
    config: {
      site: { id: 'lab', name: 'Lab' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { port: 0 },
      buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: '127.0.0.1', port: 9 }],
      commissioning: { bench: { gateways: [bench.tcp] } },
    },
    adminPassword: 'lab admin password',
    logger: pino({ level: 'silent' }),
  });
  const { call, login } = httpClient(() => sys.url);
  try {
    const admin = await login('admin', 'lab admin password');
    const created = await call('POST', '/api/inventory', {
      token: admin,
      body: {
        serial: '200322016690',
        model: 'DDSU666',
        site: 'Lab',
        building: 'Floor 1 Reception',
        bus: 'bus1',
        address: 12,
        reason: 'received from supplier',
      },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal((created.json.meter as { status: string } | undefined)?.status ?? (created.json as { status?: string }).status, 'Assigned');
    const started = await call('POST', '/api/converter/run', {
      token: admin,
      body: { tcp: bench.tcp, timeoutMs: 300, model: 'DDSU666', address: 12, serial: '200322016690' },
    });
    assert.equal(started.json.state, 'waiting-for-operator', started.text);
    bench.meter.frontPanel.setProtocol('n.2'); // the operator at the bench
    const run = await call('POST', `/api/converter/runs/${String(started.json.runId)}/confirm`, { token: admin });
    assert.equal(run.status, 200, run.text);
    assert.equal(run.json.state, 'done', JSON.stringify(run.json.result));
    await new Promise((r) => setTimeout(r, 50)); // the inventory is told right after the run settles
    assert.equal(bench.meter.modbusAddress, 12);
    const record = await call('GET', '/api/inventory/200322016690', { token: admin });
    const meter = record.json.meter as { status: string };
    assert.equal(meter.status, 'Converted');
    const history = record.json.history as { to: string; by: string; reason: string }[];
    const last = history[history.length - 1];
    assert.equal(last?.to, 'Converted');
    assert.equal(last.by, 'admin');
    assert.match(last.reason, /converter run: DDSU666 switched to Modbus, now at address 12/);
  } finally {
    await bench.close();
    await sys.close();
  }
});
