import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startSimulator } from '../src/sim/simulator.js';
import { openDatabase } from '../src/store/database.js';
import { fromRoot } from '../src/util/paths.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// A crash loop: the process is killed before the first flush interval (30 s) has passed. The
// recorder flushes after the first poll cycle, so what it read is on disk anyway.
test('a system killed with SIGKILL 5 s after it started has stored readings', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-crash-'));
  const sim = await startSimulator({ customers: 3, seed: 1 });
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const dbPath = path.join(dir, 'mgos.db');
  const configFile = path.join(dir, 'site.yaml');
  // JSON is YAML: the file is read like any site file.
  writeFileSync(
    configFile,
    JSON.stringify({
      site: { id: 'crash', name: 'Crash loop', timezone: 'Africa/Kampala' },
      poll: { intervalMs: 1000 },
      storage: { path: dbPath, flushIntervalMs: 30_000 },
      http: { host: '127.0.0.1', port: 0 },
      buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: sim.host, port: sim.rtuTcpPort, baudRate: 9600, stopBits: 2 }],
      meters: [
        { id: 100, name: 'main', type: '3phase', role: 'main' },
        { id: 2, name: 'c2', type: '1phase' },
        { id: 3, name: 'c3', type: '1phase' },
      ],
    }),
  );
  const child = spawn(process.execPath, [fromRoot('dist', 'src', 'cli', 'mgos.js'), 'start', '--config', configFile], {
    env: { ...process.env, MGOS_ADMIN_PASSWORD: 'crash loop password', MGOS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  // "Started" is when the system says it runs (loading modules on a busy machine is not the point).
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => {
      if (l.includes('mgos running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`mgos start exited with ${code}`)));
    setTimeout(() => reject(new Error('mgos start did not report running within 30 s')), 30_000).unref();
  });
  await sleep(5000);
  child.kill('SIGKILL');
  await exited;
  const db = openDatabase(dbPath);
  try {
    const stored = db
      .prepare<[], { key: string; n: number }>('SELECT m.key, count(*) AS n FROM readings r JOIN meters m ON m.id = r.meter_id GROUP BY m.key')
      .all();
    assert.deepEqual(stored.map((s) => s.key).sort(), ['meter100', 'meter2', 'meter3'], `readings stored per meter: ${JSON.stringify(stored)}`);
  } finally {
    db.close();
  }
});
