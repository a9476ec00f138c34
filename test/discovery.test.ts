import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem } from '../src/system.js';
import type { CycleReport } from '../src/modbus/poller.js';

test('discovery on 30 simulated meters finds every live meter with its model, reports the duplicate and the dead one, and polling keeps its cycle', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-scan-'));
  // 29 customers (2-30) + the main meter (100); 2-12, 26 and 100 are configured.
  const configured = [...Array.from({ length: 11 }, (_, i) => i + 2), 26];
  const sys = await startSystem({
    config: {
      site: { id: 'scan', name: 'Scan site' },
      poll: { intervalMs: 3000 },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { port: 0 },
      sim: { enabled: true, customers: 29, port: 0 },
      meters: [{ id: 100, name: 'main', type: '3phase', role: 'main' }, ...configured.map((id) => ({ id, name: `m_${id}`, type: '1phase' }))],
    },
    adminPassword: 'scan test password',
    logger: pino({ level: 'silent' }),
  });
  try {
    assert.ok(sys.sim);
    // Meter 25 was set to address 24 by mistake: two meters answer on 24. Meter 26 is dead.
    await sys.site.bus('sim')?.writeRegisters(25, 0x0006, [24]);
    sys.sim.slave.silence(26);
    const cycles: CycleReport[] = [];
    const off = sys.site.live.subscribe(({ report }) => cycles.push(report));
    const scan = sys.commissioning.discovery.start('sim', 1, 60, 'test');
    const done = await sys.commissioning.discovery.finished(scan.id);
    off();
    assert.equal(done.state, 'done');
    assert.equal(done.scanned, 60);
    const by = new Map(done.found.map((f) => [f.address, f]));
    for (const a of [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      assert.equal(by.get(a)?.status, 'known', `address ${a}`);
      assert.equal(by.get(a)?.model, 'DDSU666');
      assert.equal(by.get(a)?.configuredAs, `meter${a}`);
    }
    for (const a of [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 27, 28, 29, 30]) {
      assert.equal(by.get(a)?.status, 'new', `address ${a}`);
      assert.equal(by.get(a)?.model, 'DDSU666');
    }
    assert.equal(by.get(24)?.status, 'duplicate');
    assert.match(by.get(24)?.detail ?? '', /two meters may share this address/);
    assert.equal(by.get(26)?.status, 'missing');
    assert.match(by.get(26)?.detail ?? '', /configured as m_26 \(1phase\) but did not answer/);
    assert.ok(!by.has(1) && !by.has(25) && !by.has(31) && !by.has(60), 'nothing answers at 1, 25 (moved away), 31 or 60');
    assert.deepEqual(
      done.proposals.map((p) => p.id),
      [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 27, 28, 29, 30],
    );
    assert.deepEqual(done.proposals[0], { id: 13, name: 'meter_013', type: 'DDSU666', bus: 'sim', note: 'new meter on the bus' });
    // Live polling kept its cycle: every cycle during the scan read every live configured meter,
    // none overran the poll interval.
    assert.ok(cycles.length >= 2, `the scan spanned ${cycles.length} cycles`);
    for (const c of cycles) {
      assert.equal(c.overrun, false, `cycle ${c.cycle} took ${c.durationMs} ms`);
      assert.ok(c.requests >= 12, `cycle ${c.cycle} read ${c.requests} blocks`);
    }
  } finally {
    await sys.close();
  }
});
