import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';

interface FleetMeter {
  key: string;
  quality: string;
  lastReadingTs: number | null;
  completeness: number;
  todayImportKWh: number;
  openAlarms: number;
  inventoryStatus: string | null;
  serial: string | null;
}

test('the fleet view lists every meter with status, last reading, completeness, energy today and open alarms', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-fleet-'));
  const sys = await startSystem({
    config: {
      site: { id: 'f1', name: 'Fleet site' },
      poll: { intervalMs: 1000 },
      storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 1000 },
      http: { port: 0 },
      sim: { enabled: true, customers: 3, port: 0 },
    },
    adminPassword: 'fleet admin password',
    logger: pino({ level: 'silent' }),
  });
  const { call, login } = httpClient(() => sys.url);
  try {
    const admin = await login('admin', 'fleet admin password');
    // The spreadsheet of meters already in the field moves into the inventory by CSV import.
    const csv = [
      'Meter Serial Number,Meter Type,Site Name,Building/Customer,Assigned Modbus Address,Status,Date Assigned,Date Converted,Date Installed,Date Commissioned,Converted By,Installed By,Commissioned By,Notes',
      '200322016691,DDSU666,Fleet site,House 2,2,Commissioned,2026-04-01,2026-04-02,2026-04-03,2026-04-04,Jane Doe,John Smith,Alice Johnson,',
    ].join('\n');
    const imported = await call('POST', '/api/inventory/import', { token: admin, body: { csv } });
    assert.equal(imported.status, 200, imported.text);
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal((await call('POST', '/api/meters/meter3/status-code', { token: admin, body: { code: 1005 } })).status, 200);
    const fleet = await call('GET', '/api/fleet', { token: admin });
    assert.equal(fleet.status, 200, fleet.text);
    const [site] = fleet.json.sites as { id: string; meters: FleetMeter[] }[];
    assert.equal(site?.id, 'f1');
    assert.deepEqual(
      site.meters.map((m) => m.key),
      ['meter100', 'meter2', 'meter3', 'meter4'],
    );
    for (const m of site.meters) {
      assert.equal(m.quality, 'GOOD');
      assert.ok(m.lastReadingTs && Date.now() - m.lastReadingTs < 5000);
      assert.ok(m.completeness > 0.5 && m.completeness <= 1, `${m.key} completeness ${m.completeness}`);
    }
    const m2 = site.meters.find((m) => m.key === 'meter2');
    assert.equal(m2?.serial, '200322016691');
    assert.equal(m2.inventoryStatus, 'Commissioned');
    assert.equal(site.meters.find((m) => m.key === 'meter3')?.openAlarms, 1);
    assert.equal(site.meters.find((m) => m.key === 'meter4')?.openAlarms, 0);
  } finally {
    await sys.close();
  }
});
