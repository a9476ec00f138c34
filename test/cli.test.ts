import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mgos } from './helpers/cli.js';
import { startSimulator } from '../src/sim/simulator.js';

test('mgos start refuses a bad site file with file, line, field, found and allowed, and starts nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-cli-'));
  const file = path.join(dir, 'site.yaml');
  writeFileSync(
    file,
    'site: { id: s1, name: S1 }\nbuses:\n  - { id: bus1, transport: rtu, path: /dev/null }\nmeters:\n  - { id: 2, name: house_2, type: 2phase }\n',
  );
  const r = await mgos(['start', '--config', file]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: meters\\.0\\.type: unknown meter type; allowed: 1phase, 3phase, DDSU666, DTSU666; found "2phase"`,
    ),
  );
  assert.match(r.stderr, /nothing was started/);
});

test('mgos read prints every channel of one meter in engineering units', async () => {
  const T = Date.UTC(2026, 10, 25, 15, 0, 0);
  const sim = await startSimulator({ customers: 3, clock: () => T });
  try {
    const r = await mgos(['read', '--tcp', `127.0.0.1:${sim.rtuTcpPort}`, '--rtu-over-tcp', '--address', '100', '--type', '3phase', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { model: string; values: Record<string, number> };
    assert.equal(out.model, 'DTSU666');
    const truth = sim.model.meterValues(100);
    for (const ch of ['Voltage_L1', 'ActivePower', 'Frequency', 'EnergyImport']) {
      const expected = truth?.[ch];
      assert.ok(expected !== undefined && Math.abs((out.values[ch] ?? NaN) - expected) <= Math.abs(expected) * 1e-6 + 1e-3, ch);
    }
    const table = await mgos(['read', '--tcp', `127.0.0.1:${sim.rtuTcpPort}`, '--rtu-over-tcp', '--address', '2', '--type', '1phase']);
    assert.match(table.stdout, /DDSU666 at address 2\n\s+Voltage_L1\s+2\d\d\.\d+ V\n/);
    const dead = await mgos(['read', '--tcp', `127.0.0.1:${sim.rtuTcpPort}`, '--rtu-over-tcp', '--address', '77', '--type', '1phase', '--timeout', '200']);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /timed out/);
  } finally {
    await sim.close();
  }
});

test('mgos with a wrong argument prints the command help and exits 2', async () => {
  const r = await mgos(['read', '--address', '300', '--type', '1phase', '--port', '/dev/null']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--address: give the Modbus address, 1-247/);
  assert.match(r.stderr, /mgos read: read every channel/);
});

test('mgos export writes a recorded day as CSV in the field logger columns', async () => {
  const { startSystem } = await import('../src/system.js');
  const { pino } = await import('pino');
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-cli-'));
  const file = path.join(dir, 'site.yaml');
  writeFileSync(
    file,
    'site: { id: s1, name: S1, timezone: Africa/Kampala }\npoll: { intervalMs: 1000 }\nstorage: { path: db/mgos.db, flushIntervalMs: 0 }\nhttp: { port: 0 }\nsim: { enabled: true, customers: 2, port: 0 }\n',
  );
  const sys = await startSystem({ configPath: file, adminPassword: 'export test password', logger: pino({ level: 'silent' }) });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && sys.site.image.quality('meter2') !== 'GOOD') await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1200));
  await sys.close(); // flushes what is buffered
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Africa/Kampala' }).format(new Date());
  const out = path.join(dir, 'meter_002.csv');
  const r = await mgos(['export', '--config', file, '--meter', '2', '--date', day, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.match(lines[0] ?? '', /^timestamp,meter_id,V_L1_V,.*P_total_kW,.*E_total_kWh/);
  assert.ok(lines.length >= 2, 'at least one reading exported');
  assert.match(lines[1] ?? '', new RegExp(`^${day} \\d{2}:\\d{2}:\\d{2},2,2\\d\\d\\.`));
});

test('mgos meter add and mgos scan work against the running system through its API', async () => {
  const { startSystem } = await import('../src/system.js');
  const { pino } = await import('pino');
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-cli-'));
  const sys = await startSystem({
    config: {
      site: { id: 's2', name: 'S2' },
      poll: { intervalMs: 1000 },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { port: 0 },
      sim: { enabled: true, customers: 6, port: 0 },
      meters: [{ id: 2, name: 'house_2', type: '1phase' }],
    },
    adminPassword: 'cli admin password',
    logger: pino({ level: 'silent' }),
  });
  try {
    const env = { ...process.env, MGOS_URL: sys.url, MGOS_PASSWORD: 'cli admin password' };
    const cli = (args: string[]) => mgos([...args, '--user', 'admin'], env);
    const added = await cli(['meter', 'add', '--id', '5', '--name', 'house_5', '--type', '1phase']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /meter 5 \(house_5\) is live: 2\d\d\.\d V; configuration version \d+/);
    const refused = await cli(['meter', 'add', '--id', '1', '--name', 'fresh', '--type', '1phase']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /address 1 is the factory default/);
    const scan = await cli(['scan', '--bus', 'sim', '--from', '1', '--to', '8']);
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stderr, /\[#+\] 8\/8 addresses, 6 found/);
    assert.match(scan.stdout, /^ {2}2 {2}known {8}DDSU666 {2}meter2 /m);
    assert.match(scan.stdout, /^ {2}3 {2}new {10}DDSU666/m);
    assert.match(scan.stdout, /- \{ id: 3, name: meter_003, type: DDSU666, bus: sim \}/);
  } finally {
    await sys.close();
  }
});

test('mgos start refuses an unknown time zone with file:line before creating a database or an admin', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-cli-tz-'));
  const data = path.join(dir, 'data');
  mkdirSync(data);
  const file = path.join(dir, 'site.yaml');
  writeFileSync(file, `site: { id: s1, name: S1, timezone: Mars/Olympus }\nstorage: { path: ${data}/mgos.db }\nhttp: { port: 0 }\n`);
  const r = await mgos(['start', '--config', file]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /site\.yaml:1: site\.timezone: not an IANA time zone this system knows; allowed: .*Africa\/Kampala.*; found "Mars\/Olympus"/);
  assert.doesNotMatch(r.stdout, /password/);
  assert.deepEqual(readdirSync(data), [], 'no database, no admin: the data folder stays empty');
});
