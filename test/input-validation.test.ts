import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseCsv } from '../src/commissioning/inventory/csv-format.js';
import { INVENTORY_CSV_COLUMNS } from '../src/commissioning/inventory/csv.js';
import { serveBench, type BenchHandle } from '../src/sim/bench-server.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { httpClient } from './helpers/http.js';
import { openPtyPair, requireTool, toolPath, type PtyPair } from './helpers/pty.js';

/**
 * Input the running system must refuse (issue 8, section 3): bench converter lines, impossible
 * dates, unknown buses; and CSV cells a spreadsheet would run as formulas.
 */
let dir: string;
let sys: RunningSystem | undefined;
let bench: BenchHandle;
let pty: PtyPair | undefined;
let benchOnPty: BenchHandle | undefined;
let admin = '';
const { call, login } = httpClient(() => sys?.url ?? '');

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mgos-input-'));
  bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 12.5 });
  if (toolPath('socat')) {
    pty = await openPtyPair();
    benchOnPty = await serveBench({ model: 'DTSU666', serial: '200415023456', energyKWh: 7.5 }, { serialPaths: [pty.b] });
  }
  sys = await startSystem({
    config: {
      site: { id: 'lab', name: 'Lab', timezone: 'Africa/Kampala' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { port: 0 },
      buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: '127.0.0.1', port: 9, timeoutMs: 100, retries: 0 }],
      meters: [{ id: 2, name: 'house_2', type: '1phase' }],
      // Tests talk to a socat pty (/dev/pts/N), which the default prefixes do not allow.
      commissioning: { bench: { serialPrefixes: ['/dev/ttyUSB', '/dev/pts/'], gateways: [bench.tcp] } },
    },
    adminPassword: 'lab admin password',
    logger: pino({ level: 'silent' }),
  });
  admin = await login('admin', 'lab admin password');
});

after(async () => {
  await sys?.close();
  await bench.close();
  await benchOnPty?.close();
  await pty?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the bench converter opens only serial devices (after resolving the path) and configured gateways', async (t) => {
  const passwd = await call('POST', '/api/converter/identify', { token: admin, body: { port: '/dev/../etc/passwd' } });
  assert.equal(passwd.status, 400);
  assert.match(
    String(passwd.json.error),
    /port: "\/dev\/\.\.\/etc\/passwd" \(it resolves to \/etc\/passwd\) is not a bench serial device; allowed: a serial device whose real path starts with \/dev\/ttyUSB, \/dev\/pts\//,
  );
  const missing = await call('POST', '/api/converter/identify', { token: admin, body: { port: '/dev/ttyUSB99' } });
  assert.equal(missing.status, 400);
  assert.match(String(missing.json.error), /port: "\/dev\/ttyUSB99" does not exist/);
  const tcp = await call('POST', '/api/converter/run', { token: admin, body: { tcp: '127.0.0.1:1', model: 'DDSU666', address: 12 } });
  assert.equal(tcp.status, 400);
  assert.match(
    String(tcp.json.error),
    new RegExp(`tcp: 127\\.0\\.0\\.1:1 is not a configured gateway; allowed: ${bench.tcp.replaceAll('.', '\\.')}, 127\\.0\\.0\\.1:9`),
  );
  const ok = await call('POST', '/api/converter/identify', { token: admin, body: { tcp: bench.tcp, timeoutMs: 300 } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.serial, '200322016690');
  if (!requireTool('socat', t) || !pty) return;
  const serial = await call('POST', '/api/converter/identify', { token: admin, body: { port: pty.a, timeoutMs: 500 } });
  assert.equal(serial.status, 200, serial.text);
  assert.equal(serial.json.serial, '200415023456');
});

test('a date that is not on the calendar is refused with a sentence, not answered with an empty CSV', async () => {
  for (const [date, why] of [
    ['2026-13-45', /date: "2026-13-45" is not a day of the calendar \(month 01-12, day within that month\); write YYYY-MM-DD/],
    ['2026-02-31', /"2026-02-31" is not a day of the calendar/],
    ['yesterday', /date: expected a date written YYYY-MM-DD, e\.g\. 2026-04-01, but found "yesterday"/],
  ] as const) {
    const r = await call('GET', `/api/meters/meter2/csv?date=${date}`, { token: admin });
    assert.equal(r.status, 400, `${date}: ${r.text}`);
    assert.match(String(r.json.error), why);
  }
  const good = await call('GET', '/api/meters/meter2/csv?date=2024-02-29', { token: admin });
  assert.equal(good.status, 200, good.text);
  assert.match(good.text, /^timestamp,meter_id,/);
});

test('an address suggestion or check for a bus the site does not have is refused, naming the buses it has', async () => {
  for (const url of ['/api/address-plan/suggest?bus=bus7&phases=1', '/api/address-plan/check?bus=bus7&phases=1&address=5']) {
    const r = await call('GET', url, { token: admin });
    assert.equal(r.status, 404, `${url}: ${r.text}`);
    assert.match(String(r.json.error), /bus: no bus "bus7" is configured at Lab; allowed: bus1/);
  }
  const known = await call('GET', '/api/address-plan/suggest?bus=bus1&phases=1', { token: admin });
  assert.equal(known.status, 200, known.text);
  assert.equal(known.json.address, 3, 'meter 2 holds address 2');
});

test('the inventory CSV export neutralises formulas, and importing it back changes nothing', async () => {
  const nasty = { building: "=cmd|' /C calc'!A0", notes: '@SUM(1+1)*cmd|x' };
  const created = await call('POST', '/api/inventory', { token: admin, body: { serial: '200322016691', model: 'DDSU666', ...nasty, reason: 'received' } });
  assert.equal(created.status, 200, created.text);
  const plus = await call('POST', '/api/inventory', {
    token: admin,
    body: { serial: '200322016692', model: 'DDSU666', building: '+1+1', notes: '-12.5', reason: 'received' },
  });
  assert.equal(plus.status, 200, plus.text);
  const csv = await call('GET', '/api/inventory.csv', { token: admin });
  assert.equal(csv.status, 200);
  const rows = parseCsv(csv.text).map((r) => r.fields);
  const col = (row: string[] | undefined, name: (typeof INVENTORY_CSV_COLUMNS)[number]): string | undefined => row?.[INVENTORY_CSV_COLUMNS.indexOf(name)];
  const first = rows.find((r) => r[0] === '200322016691');
  const second = rows.find((r) => r[0] === '200322016692');
  assert.equal(col(first, 'Building/Customer'), "'=cmd|' /C calc'!A0");
  assert.equal(col(first, 'Notes'), "'@SUM(1+1)*cmd|x");
  assert.equal(col(second, 'Building/Customer'), "'+1+1");
  assert.equal(col(second, 'Notes'), '-12.5', 'a number stays a number');
  for (const line of csv.text.split('\r\n')) assert.doesNotMatch(line, /(^|,)"?[=+@]/, `no cell starts a formula: ${line}`);

  const imported = await call('POST', '/api/inventory/import', { token: admin, body: { csv: csv.text } });
  assert.equal(imported.status, 200, imported.text);
  const back = await call('GET', '/api/inventory/200322016691', { token: admin });
  const meter = back.json.meter as { building: string; notes: string };
  assert.deepEqual({ building: meter.building, notes: meter.notes }, nasty);
  const plusBack = (await call('GET', '/api/inventory/200322016692', { token: admin })).json.meter as { building: string; notes: string };
  assert.deepEqual({ building: plusBack.building, notes: plusBack.notes }, { building: '+1+1', notes: '-12.5' });
});
