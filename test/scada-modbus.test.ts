import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { startControlSite, until, type ControlSite } from './helpers/control-site.js';
import { requireTool } from './helpers/pty.js';
import { REGISTER_MAP } from '../src/scada/register-map.js';

/**
 * The Modbus TCP server for SCADA (issue 12 item 4, docs/scada-modbus.md) against mbpoll (libmodbus,
 * an independent client): the map reads the site's values, a setpoint write becomes an override by
 * "scada" in /api/control, out-of-range values are refused with exception 03, and a client on
 * 127.0.0.2 (read-only) is refused writes with exception 01. mbpoll cannot choose its source address,
 * so that case uses a raw node client bound to 127.0.0.2.
 */
const STEER = {
  controllers: [{ kind: 'self-consumption', id: 'self' }],
  safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
};

let s: ControlSite | undefined;
let port = 0;
let ready = false;

before(async () => {
  if (!requireTool('mbpoll')) return;
  s = await startControlSite({
    control: STEER,
    pv: { L1: 1000, L2: 1000, L3: 1000 },
    extra: {
      scada: { enabled: true, host: '127.0.0.1', port: 0, allow: ['127.0.0.1'], readOnly: ['127.0.0.2'], modes: [{ name: 'passive', controllers: [] }] },
    },
  });
  const sys = s.sys;
  port = sys.scada?.port ?? assert.fail('no SCADA server');
  await until('grid, battery and PV values are GOOD', () =>
    [
      ['grid', 'ActivePower'],
      ['ess0', 'Soc'],
      ['pv0', 'ActivePower'],
    ].every(([c = '', ch = '']) => sys.site.image.get(c, ch)?.quality === 'GOOD'),
  );
  ready = true;
});

after(async () => {
  await s?.close();
});

interface Run {
  readonly code: number;
  readonly out: string;
}

function mbpoll(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '1', '-0', '-1', '-o', '2', ...args], { timeout: 5000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

function parse(out: string): Map<number, number> {
  const values = new Map<number, number>();
  for (const m of out.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)) values.set(Number(m[1]), Number(m[2]));
  return values;
}

async function read(args: readonly string[]): Promise<Map<number, number>> {
  const r = await mbpoll(args);
  assert.equal(r.code, 0, `mbpoll ${args.join(' ')}:\n${r.out}`);
  return parse(r.out);
}

const int32 = (ref: number, count: number) => read(['-t', '4:int', '-B', '-r', String(ref), '-c', String(count), '127.0.0.1']);

test('mbpoll reads the register map: grid power, SoC, PV, limits and flags match the process image', async (t) => {
  if (!ready) {
    t.skip('mbpoll missing');
    return;
  }
  const site = s as ControlSite;
  const words = await read(['-t', '4', '-r', '0', '-c', '21', '127.0.0.1']);
  assert.equal(words.get(0), 1, 'map version');
  const soc = site.sys.site.image.get('ess0', 'Soc')?.value ?? NaN;
  assert.ok(Math.abs((words.get(3) ?? NaN) / 10 - soc) <= 1, `SoC ${words.get(3)} tenths vs ${soc} %`);
  assert.equal(words.get(16), 0, 'every value GOOD');
  assert.equal(words.get(20), 1, 'control present');
  const grid = await int32(1, 1);
  const gridNow = site.sys.site.image.get('grid', 'ActivePower')?.value ?? NaN;
  assert.ok(Math.abs((grid.get(1) ?? NaN) - gridNow) < 1500, `grid ${grid.get(1)} W vs ${gridNow} W`);
  const limits = await int32(10, 3);
  assert.deepEqual([limits.get(10), limits.get(12), limits.get(14)], [6000, 6000, 9000], 'battery charge/discharge limits and PV rating');
  const pv = await int32(6, 1);
  assert.ok((pv.get(6) ?? 0) > 500, `PV ${pv.get(6)} W`);
  const unmapped = await mbpoll(['-t', '4', '-r', '50', '-c', '1', '127.0.0.1']);
  assert.notEqual(unmapped.code, 0);
  assert.match(unmapped.out, /Illegal data address/i);
});

test('a setpoint written with mbpoll becomes an override by scada in /api/control and is audited; an out-of-range one is refused', async (t) => {
  if (!ready) {
    t.skip('mbpoll missing');
    return;
  }
  const site = s as ControlSite;
  const w = await mbpoll(['-t', '4:int', '-B', '-r', '101', '127.0.0.1', '--', '-2400']);
  assert.equal(w.code, 0, w.out);
  const st = (await site.call('GET', '/api/control')).json as { overrides: Array<{ asset: string; value: number; by: string; reason: string }> };
  const ess = st.overrides.filter((o) => o.asset === 'ess0');
  assert.equal(ess.length, 3, JSON.stringify(st.overrides));
  assert.ok(
    ess.every((o) => o.by === 'scada' && o.value === -800 && /SCADA write from 127\.0\.0\.1/.test(o.reason)),
    JSON.stringify(ess),
  );
  assert.equal((await int32(101, 1)).get(101), -2400, 'the override reads back');
  assert.equal((await read(['-t', '4', '-r', '100', '-c', '1', '127.0.0.1'])).get(100), 4, 'battery mode reads "setpoint override"');
  await until('the inverter follows', () => site.setpoints().L1 < -700);
  const audit = (await site.call('GET', '/api/control/audit')).json as { entries: Array<{ actor: string; action: string; detail: string }> };
  assert.ok(
    audit.entries.some((e) => e.actor === 'scada' && e.action === 'override' && /-800/.test(e.detail)),
    'audited',
  );

  const tooBig = await mbpoll(['-t', '4:int', '-B', '-r', '101', '127.0.0.1', '--', '-7000']);
  assert.notEqual(tooBig.code, 0);
  assert.match(tooBig.out, /Illegal data value/i);
  const badMode = await mbpoll(['-t', '4', '-r', '100', '127.0.0.1', '9']);
  assert.match(badMode.out, /Illegal data value/i);
  const readOnlyReg = await mbpoll(['-t', '4', '-r', '3', '127.0.0.1', '5']);
  assert.match(readOnlyReg.out, /Illegal data address/i);

  const idle = await mbpoll(['-t', '4', '-r', '100', '127.0.0.1', '1']);
  assert.equal(idle.code, 0, idle.out);
  assert.equal((await read(['-t', '4', '-r', '100', '-c', '1', '127.0.0.1'])).get(100), 1, 'mode idle reads back');
  await until('the inverter idles', () => Math.abs(site.setpoints().L1) < 1);
  const auto = await mbpoll(['-t', '4', '-r', '100', '127.0.0.1', '0']);
  assert.equal(auto.code, 0, auto.out);
  const after = (await site.call('GET', '/api/control')).json as { overrides: unknown[] };
  assert.equal(after.overrides.length, 0, 'mode 0 ends the override');

  const control = site.sys.control ?? assert.fail('no edge cycle');
  const mode = await mbpoll(['-t', '4', '-r', '106', '127.0.0.1', '1']);
  assert.equal(mode.code, 0, mode.out);
  assert.deepEqual(control.controllerConfigList(), [], 'control mode 1 (passive, no controllers)');
  assert.equal(await mbpoll(['-t', '4', '-r', '106', '127.0.0.1', '0']).then((r) => r.code), 0);
  assert.deepEqual(
    control.controllerConfigList().map((c) => c.id),
    ['self'],
    'mode 0 returns to the site file',
  );
});

/** One Modbus TCP request from a chosen source address; resolves with the reply PDU or 'closed'. */
function rawRequest(localAddress: string, pdu: Buffer): Promise<Buffer | 'closed'> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer'));
    }, 3000);
    sock.on('connect', () => {
      const adu = Buffer.alloc(7 + pdu.length);
      adu.writeUInt16BE(42, 0);
      adu.writeUInt16BE(0, 2);
      adu.writeUInt16BE(pdu.length + 1, 4);
      adu.writeUInt8(1, 6);
      pdu.copy(adu, 7);
      sock.write(adu);
    });
    sock.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 6 && got.length >= 6 + got.readUInt16BE(4)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got.subarray(7));
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    sock.on('error', () => undefined);
  });
}

test('a write from an address not on the allow-list is refused; a read-only address may read; others are disconnected', async (t) => {
  if (!ready) {
    t.skip('mbpoll missing');
    return;
  }
  const site = s as ControlSite;
  const write = Buffer.from([0x06, 0x00, 0x64, 0x00, 0x02]); // FC06 register 100 (battery mode) = 2 (charge)
  const refused = await rawRequest('127.0.0.2', write);
  assert.ok(refused !== 'closed');
  assert.deepEqual([...refused], [0x86, 0x01], 'exception 01 from a read-only client');
  const st = (await site.call('GET', '/api/control')).json as { overrides: unknown[] };
  assert.equal(st.overrides.length, 0, 'nothing changed');
  const readReply = await rawRequest('127.0.0.2', Buffer.from([0x03, 0x00, 0x00, 0x00, 0x01]));
  assert.ok(readReply !== 'closed');
  assert.deepEqual([...readReply], [0x03, 0x02, 0x00, 0x01], 'a read-only client reads the map version');
  assert.equal(await rawRequest('127.0.0.3', write), 'closed', 'an unknown address is disconnected');
  assert.ok((site.sys.scada?.stats.rejectedConnections ?? 0) >= 1);
});

test('the register map is documented: every field appears in docs/scada-modbus.md', async () => {
  const { readFileSync } = await import('node:fs');
  const { fromRoot } = await import('../src/util/paths.js');
  const doc = readFileSync(fromRoot('docs/scada-modbus.md'), 'utf8');
  for (const r of REGISTER_MAP) assert.match(doc, new RegExp(`\\| ${r.address} \\| \`${r.name}\``), `${r.name} at ${r.address}`);
});
