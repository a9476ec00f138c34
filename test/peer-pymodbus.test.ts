import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { fromRoot } from '../src/util/paths.js';
import { openPtyPair, requireTool } from './helpers/pty.js';
import { siteConfigSchema } from '../src/config/site-config.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { CollectingSink } from './helpers/site.js';

const PYTHON = '/usr/bin/python3';

/** Debian's pymodbus (not a pyenv python) must be importable; under CI a missing one fails the test. */
async function pymodbusAvailable(t: { skip(m: string): void }): Promise<boolean> {
  const ok =
    existsSync(PYTHON) &&
    (await new Promise<boolean>((resolve) => {
      const p = spawn(PYTHON, ['-c', 'import pymodbus, serial_asyncio'], { stdio: 'ignore' });
      p.on('exit', (code) => resolve(code === 0));
      p.on('error', () => resolve(false));
    }));
  if (ok) return true;
  const message = 'python3-pymodbus is not installed (apt-get install python3-pymodbus python3-serial-asyncio)';
  if (process.env.CI) throw new Error(`${message}; CI must run this test`);
  t.skip(message);
  return false;
}

test('our poller reads an independent pymodbus RTU slave holding a DTSU666 image and reports engineering values', async (t) => {
  if (!requireTool('socat', t) || !(await pymodbusAvailable(t))) return;
  const pty = await openPtyPair();
  const slave = spawn(PYTHON, [fromRoot('test', 'peers', 'dtsu666_slave.py'), pty.b, '7'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  slave.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await once(slave.stdout, 'data');
    await new Promise((r) => setTimeout(r, 300)); // the serial server opens the port after printing
    const config = siteConfigSchema.parse({
      site: { id: 'peer', name: 'Peer test' },
      buses: [{ id: 'bus1', transport: 'rtu', path: pty.a, baudRate: 9600, parity: 'none', stopBits: 2, timeoutMs: 1000 }],
      meters: [{ id: 7, name: 'main_supply', type: '3phase', role: 'main', ctRatio: 40 }],
    });
    const sink = new CollectingSink();
    const site = new SiteRuntime(config, loadProfiles(), sink);
    const [poller] = site.pollers();
    assert.ok(poller);
    try {
      // Cycle 0 reads the instantaneous and (for the first meter) the energy block.
      const report = await poller.runCycle();
      assert.equal(report.failedDevices, 0, `poll failed: ${site.lastErrorOf('meter7')} ${stderr}`);
      const v = sink.of('meter7')[0]?.values;
      assert.ok(v);
      const near = (name: string, expected: number, tol = 1e-3): void => {
        const got = v[name];
        assert.ok(got !== undefined && Math.abs(got - expected) <= tol, `${name}: expected ${expected}, got ${got}`);
      };
      near('Voltage_L1', 230.2);
      near('Voltage_L2', 231.0);
      near('Voltage_L3', 229.5);
      near('Voltage_L12', 400.0);
      near('Current_L1', 5 * 40); // 5.000 A secondary x CT 40
      near('Current_L3', 1.25 * 40);
      near('ActivePower', 2100 * 40, 0.5);
      near('ActivePower_L1', 1100 * 40, 0.5);
      near('ReactivePower', -300 * 40, 0.5);
      near('PowerFactor', 0.95);
      near('Frequency', 49.98);
      near('EnergyImport', 478.49 * 40, 0.01);
      near('EnergyExport', 12.5 * 40);
    } finally {
      await site.stop();
    }
  } finally {
    slave.kill();
    await pty.close();
  }
});
