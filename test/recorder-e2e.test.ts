import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { rawSeries } from '../src/store/history.js';
import { openPtyPair, requireTool } from './helpers/pty.js';

const FROZEN = Date.UTC(2026, 10, 25, 16, 0, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function baseConfig(dir: string, extra: Record<string, unknown>) {
  return {
    site: { id: 'e2e', name: 'E2E site', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 1000 },
    storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 0 },
    http: { port: 0 },
    ...extra,
  };
}

/** Waits until every meter has been read (and its energy block too) at least once. */
async function waitForAllMeters(sys: RunningSystem, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = sys.site.meterList().every((m) => sys.site.image.get(m.key, 'EnergyImport')?.quality === 'GOOD');
    if (ready) return;
    await sleep(200);
  }
  assert.fail('not every meter was read in time');
}

function assertStoredEqualsSimulated(sys: RunningSystem): void {
  assert.ok(sys.sim);
  sys.recorder.flushAndBuild();
  let compared = 0;
  for (const m of sys.sim.model.meters()) {
    const truth = sys.sim.model.meterValues(m.id);
    assert.ok(truth);
    for (const channel of ['Voltage_L1', 'Current_L1', 'ActivePower', 'Frequency', 'EnergyImport']) {
      const series = rawSeries(sys.db, `meter${m.id}`, channel, 0, Date.now() + 60_000);
      const last = series[series.length - 1];
      const expected = truth[channel];
      assert.ok(last && expected !== undefined, `meter${m.id} ${channel} was not stored`);
      assert.ok(Math.abs(last[1] - expected) <= Math.abs(expected) * 1e-6 + 1e-3, `meter${m.id} ${channel}: stored ${last[1]}, simulator ${expected}`);
      compared++;
    }
  }
  assert.equal(compared, sys.sim.model.meters().length * 5);
}

test('over RTU-over-TCP: the recorder stores in SQLite what the simulator shows', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-e2e-'));
  const sys = await startSystem({
    config: baseConfig(dir, { sim: { enabled: true, customers: 20, port: 0 } }),
    adminPassword: 'correct horse battery',
    simClock: () => FROZEN,
    logger: pino({ level: 'silent' }),
  });
  try {
    assert.equal(sys.site.meterList().length, 21);
    await waitForAllMeters(sys);
    assertStoredEqualsSimulated(sys);
    // WAL mode on a real file
    assert.equal(sys.db.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    await sys.close();
  }
});

test('over serial RTU on a socat pty pair: the recorder stores what the simulator shows', async (t) => {
  if (!requireTool('socat', t)) return;
  const pty = await openPtyPair();
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-e2e-'));
  try {
    const sys = await startSystem({
      config: baseConfig(dir, {
        sim: { enabled: true, customers: 4, port: 0, serialPaths: [pty.b] },
        buses: [{ id: 'rs485', transport: 'rtu', path: pty.a, baudRate: 9600, parity: 'none', stopBits: 2, timeoutMs: 500 }],
        meters: [
          { id: 100, name: 'main', type: '3phase', role: 'main' },
          { id: 2, name: 'house_2', type: '1phase' },
          { id: 3, name: 'house_3', type: '1phase' },
          { id: 4, name: 'shop_4', type: '1phase' },
          { id: 5, name: 'house_5', type: '1phase' },
        ],
      }),
      adminPassword: 'correct horse battery',
      simClock: () => FROZEN,
      logger: pino({ level: 'silent' }),
    });
    try {
      await waitForAllMeters(sys);
      assertStoredEqualsSimulated(sys);
      const [bus] = sys.site.busViews();
      assert.ok(bus && bus.transport === 'rtu' && bus.errors === 0, `bus errors: ${bus?.lastError}`);
    } finally {
      await sys.close();
    }
  } finally {
    await pty.close();
  }
});
