import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mgos } from './helpers/cli.js';
import { startSimulator } from '../src/sim/simulator.js';

// A serial device that does not exist: every refusal below must come before the port is opened.
const PORT = ['--port', '/dev/mgos-test-no-such-port', '--address', '2', '--type', '1phase'];
const USAGE = 2;

test('mgos read refuses a parity the site file refuses, naming the option, what is allowed and what was found', async () => {
  const r = await mgos(['read', ...PORT, '--parity', 'x']);
  assert.equal(r.code, USAGE, r.stderr);
  assert.match(r.stderr, /^mgos read: --parity: must be one of none, even, odd; found "x"\n/);
  assert.match(r.stderr, /mgos read: read every channel/, 'the command help follows');
});

test('mgos read refuses 3 stop bits', async () => {
  const r = await mgos(['read', ...PORT, '--stop-bits', '3']);
  assert.equal(r.code, USAGE, r.stderr);
  assert.match(r.stderr, /^mgos read: --stop-bits: must be 1 or 2; found 3\n/);
});

test("mgos read refuses a baud rate that is not a number with the standard rates, not serialport's message", async () => {
  const r = await mgos(['read', ...PORT, '--baud', 'abc']);
  assert.equal(r.code, USAGE, r.stderr);
  assert.match(r.stderr, /^mgos read: --baud: must be a number; allowed: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200; found "abc"\n/);
  assert.doesNotMatch(r.stderr, /is not a valid baudRate|cannot connect/);
  const odd = await mgos(['read', ...PORT, '--baud', '9601']);
  assert.equal(odd.code, USAGE, odd.stderr);
  assert.match(odd.stderr, /--baud: not a standard baud rate; allowed: 1200, .*115200; found 9601\n/);
});

test('mgos read names every bad option at once, as the site file does', async () => {
  const r = await mgos(['read', ...PORT, '--parity', 'EVEN', '--timeout', '5', '--ct', 'abc', '--fc', '5']);
  assert.equal(r.code, USAGE, r.stderr);
  assert.match(r.stderr, /--parity: must be one of none, even, odd; found "EVEN"/);
  assert.match(r.stderr, /--timeout: must be at least 50; found 5/);
  const meter = await mgos(['read', ...PORT, '--ct', 'abc', '--fc', '5']);
  assert.equal(meter.code, USAGE, meter.stderr);
  assert.match(meter.stderr, /--ct: must be a number; found "abc"/);
  assert.match(meter.stderr, /--fc: must be 3 or 4; found 5/);
  const type = await mgos(['read', ...PORT.slice(0, 4), '--type', '2phase']);
  assert.equal(type.code, USAGE, type.stderr);
  assert.match(type.stderr, /--type: no device profile for "2phase"; allowed: 1phase, 3phase, DDSU666, DTSU666/);
});

test('mgos read of a DDSU666 as 3phase says it is a DDSU666 and to try --type 1phase', async () => {
  const sim = await startSimulator({ customers: 3 });
  try {
    const tcp = ['--tcp', `127.0.0.1:${sim.rtuTcpPort}`, '--rtu-over-tcp'];
    const r = await mgos(['read', ...tcp, '--address', '2', '--type', '3phase']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /address 2 refused the DTSU666 \(3phase\) registers .* illegal data address: it is not a DTSU666 but a DDSU666 .*; try --type 1phase\n/,
    );
    const right = await mgos(['read', ...tcp, '--address', '2', '--type', '1phase', '--json']);
    assert.equal(right.code, 0, right.stderr);
    assert.equal((JSON.parse(right.stdout) as { model: string }).model, 'DDSU666');
  } finally {
    await sim.close();
  }
});

test('mgos --help and mgos read load only what they use: no HTTP server, database, billing, PDF, YAML or site schema', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-cli-load-'));
  const log = path.join(dir, 'loaded.txt');
  const hooks = path.join(dir, 'hooks.mjs');
  // Module hooks run on their own thread; each resolved URL is appended to the log.
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
  );
  const register = path.join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(register).href}` };
  const heavy =
    /\/node_modules\/(fastify|@fastify|pdfkit|better-sqlite3|pino|yaml)\/|\/dist\/src\/(api|billing|billing-runtime|payments|store|system)[/.]|\/dist\/src\/config\/site-config\.js$/;

  const help = await mgos(['--help'], env);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /mgos read/);
  const helpLoaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(
    helpLoaded.filter((u) => u.includes('/dist/src/') && !/\/cli\/(mgos|usage-error)\.js$/.test(u)),
    [],
    'mgos --help loads no command',
  );

  writeFileSync(log, '');
  const sim = await startSimulator({ customers: 1 });
  try {
    const r = await mgos(['read', '--tcp', `127.0.0.1:${sim.rtuTcpPort}`, '--rtu-over-tcp', '--address', '2', '--type', '1phase', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await sim.close();
  }
  const readLoaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  assert.ok(
    readLoaded.some((u) => u.endsWith('/dist/src/cli/commands/read.js')),
    'the hook saw the read command load',
  );
  assert.deepEqual(
    readLoaded.filter((u) => heavy.test(u)),
    [],
    'mgos read loads none of the server, store, billing or PDF modules, no YAML parser and not the whole site schema',
  );
});
