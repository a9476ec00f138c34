import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startSimulator, type SimulatorHandle } from '../src/sim/simulator.js';
import { openPtyPair, requireTool, type PtyPair } from './helpers/pty.js';

/**
 * The field team's own mbpoll commands (their DDSU666 and DTSU666 mbpoll command references)
 * against the simulator on a pty pair. mbpoll uses
 * libmodbus, an implementation independent of ours. Values are compared raw, as the meter holds them.
 */
const T = Date.UTC(2026, 0, 15, 19, 15); // frozen: the values do not move during the test
const DDSU = 2;
const DTSU = 100;
const BASE = ['-m', 'rtu', '-b', '9600', '-P', 'none', '-s', '2'];

let sim: SimulatorHandle | undefined;
let pty: PtyPair | undefined;

interface Run {
  readonly code: number;
  readonly out: string;
}

function mbpoll(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('mbpoll', [...args], { timeout: 5000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** mbpoll prints one `[reference]: value` line per value (references in decimal with -0). */
function parse(out: string): Map<number, number> {
  const values = new Map<number, number>();
  for (const m of out.matchAll(/^\[(\d+)\]:\s+(\S+)\s*$/gm)) values.set(Number(m[1]), Number(m[2]));
  return values;
}

async function read(args: readonly string[]): Promise<Map<number, number>> {
  const run = await mbpoll(args);
  assert.equal(run.code, 0, `mbpoll ${args.join(' ')} failed:\n${run.out}`);
  return parse(run.out);
}

/** mbpoll prints floats with 6 significant digits. */
function assertRaw(got: Map<number, number>, register: number, expected: number, what: string): void {
  const value = got.get(register);
  assert.ok(value !== undefined, `${what}: no value for register ${register} in mbpoll output`);
  assert.ok(Math.abs(value - expected) <= 1e-5 * Math.abs(expected) + 1e-6, `${what}: mbpoll read ${value}, simulator holds ${expected}`);
}

const values = (id: number): Readonly<Record<string, number>> => sim?.model.meterValues(id) ?? assert.fail(`no meter ${id}`);
const v = (id: number, channel: string): number => values(id)[channel] ?? assert.fail(`no ${channel} on meter ${id}`);

let ready = false;

before(async () => {
  if (!requireTool('mbpoll') || !requireTool('socat')) return;
  pty = await openPtyPair();
  sim = await startSimulator({ seed: 31, customers: 6, clock: () => T, serialPaths: [pty.b], mbapPort: 0 });
  ready = true;
});

after(async () => {
  await sim?.close();
  await pty?.close();
});

test('DDSU666 section: float registers, big-endian, 0-based, FC03', async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const cmd = (register: string): string[] => [...BASE, '-t', '4:float', '-B', '-0', '-r', register, '-c', '1', pty?.a ?? '', '-a', String(DDSU), '-1'];
  assertRaw(await read(cmd('0x2000')), 0x2000, v(DDSU, 'Voltage_L1'), 'voltage V');
  assertRaw(await read(cmd('0x2002')), 0x2002, v(DDSU, 'Current_L1'), 'current A');
  assertRaw(await read(cmd('0x2004')), 0x2004, v(DDSU, 'ActivePower') / 1000, 'active power kW');
  assertRaw(await read(cmd('0x200E')), 0x200e, v(DDSU, 'Frequency'), 'frequency Hz');
  assertRaw(await read(cmd('0x4000')), 0x4000, v(DDSU, 'EnergyImport'), 'energy kWh');
  const two = await read([...BASE, '-t', '4:float', '-B', '-0', '-r', '0x2000', '-c', '2', pty?.a ?? '', '-a', String(DDSU), '-1']);
  assertRaw(two, 0x2002, v(DDSU, 'Current_L1'), 'voltage + current together');
});

/**
 * Runs a command as the seed spells it. mbpoll 1.4.11 knows neither the "-t 4:int16" format nor a
 * "-W" option (it writes whenever values follow the device); when it refuses them, the command is
 * retried with "-t 4" (a 16-bit holding register, what the seed means) and without "-W".
 */
async function seedCommand(args: readonly string[], t: { diagnostic(message: string): void }): Promise<Run> {
  const run = await mbpoll(args);
  if (run.code === 0 || !/Illegal format: int16|Unrecognized option/.test(run.out)) return run;
  t.diagnostic(`this mbpoll refuses the seed's spelling (${run.out.trim().split('\n').pop() ?? ''}); retried with -t 4 and without -W`);
  return mbpoll(args.filter((a) => a !== '-W').map((a) => (a === '4:int16' ? '4' : a)));
}

test('DDSU666 section: the address register 0x0006', async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const run = await seedCommand([...BASE, '-t', '4:int16', '-0', '-r', '0x0006', '-c', '1', pty?.a ?? '', '-a', String(DDSU), '-1'], t);
  assert.equal(run.code, 0, run.out);
  assert.equal(parse(run.out).get(6), DDSU);
});

test("DDSU666 section: changing the address with the seed's write command", async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const meter = 4;
  const write = (from: number, to: number): Promise<Run> =>
    seedCommand([...BASE, '-t', '4:int16', '-0', '-r', '0x0006', pty?.a ?? '', '-a', String(from), '-W', '--', String(to)], t);
  assert.equal((await write(meter, 50)).code, 0);
  const moved = await seedCommand([...BASE, '-t', '4:int16', '-0', '-r', '0x0006', '-c', '1', pty?.a ?? '', '-a', '50', '-1'], t);
  assert.equal(parse(moved.out).get(6), 50, moved.out);
  assert.equal((await write(50, meter)).code, 0);
  assert.equal(sim?.slave.deviceAt(meter), sim?.meters.get(meter));
});

test('DTSU666 section: input registers (FC04), raw values scaled as the meter holds them', async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const cmd = (register: string, count: number): string[] => [
    ...BASE,
    '-t',
    '3:float',
    '-B',
    '-0',
    '-r',
    register,
    '-c',
    String(count),
    pty?.a ?? '',
    '-a',
    String(DTSU),
    '-1',
  ];
  const volts = await read(cmd('0x2006', 3));
  ['L1', 'L2', 'L3'].forEach((ph, i) => assertRaw(volts, 0x2006 + 2 * i, v(DTSU, `Voltage_${ph}`) * 10, `U${ph} x0.1 V`));
  const amps = await read(cmd('0x200C', 3));
  ['L1', 'L2', 'L3'].forEach((ph, i) => assertRaw(amps, 0x200c + 2 * i, v(DTSU, `Current_${ph}`) * 1000, `I${ph} x0.001 A`));
  const lineVolts = await read(cmd('0x2000', 3));
  ['L12', 'L23', 'L31'].forEach((ph, i) => assertRaw(lineVolts, 0x2000 + 2 * i, v(DTSU, `Voltage_${ph}`) * 10, `U${ph} x0.1 V`));
  assertRaw(await read(cmd('0x2012', 1)), 0x2012, v(DTSU, 'ActivePower') * 10, 'Pt x0.1 W');
  assertRaw(await read(cmd('0x2044', 1)), 0x2044, v(DTSU, 'Frequency') * 100, 'Freq x0.01 Hz');
  // Not in the manual's table, but the field team reads it and some firmware serves it (docs/modbus.md#chint-dtsu666).
  assertRaw(await read(cmd('0x4000', 1)), 0x4000, v(DTSU, 'EnergyImport'), 'total active energy kWh');
});

test('DTSU666 section: the address register 0x002E is a holding register', async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const run = await seedCommand([...BASE, '-t', '4:int16', '-0', '-r', '0x002E', '-c', '1', pty?.a ?? '', '-a', String(DTSU), '-1'], t);
  assert.equal(run.code, 0, run.out);
  assert.equal(parse(run.out).get(0x2e), DTSU);
});

test('an address nobody has times out, as in the field guide', async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const run = await mbpoll([...BASE, '-t', '4:float', '-B', '-0', '-r', '0x2000', '-c', '1', '-o', '0.2', pty?.a ?? '', '-a', '42', '-1']);
  assert.notEqual(run.code, 0);
  assert.match(run.out, /timed out/i);
});

test('mbpoll -m tcp reads the main meter over the Modbus TCP port', async (t) => {
  if (!ready) {
    t.skip('mbpoll or socat missing');
    return;
  }
  const got = await read([
    '-m',
    'tcp',
    '-p',
    String(sim?.mbapPort ?? 0),
    '-t',
    '3:float',
    '-B',
    '-0',
    '-r',
    '0x2006',
    '-c',
    '3',
    '-a',
    String(DTSU),
    '-1',
    '127.0.0.1',
  ]);
  assertRaw(got, 0x2006, v(DTSU, 'Voltage_L1') * 10, 'UL1 over Modbus TCP');
  assertRaw(got, 0x200a, v(DTSU, 'Voltage_L3') * 10, 'UL3 over Modbus TCP');
});
