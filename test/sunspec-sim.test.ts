import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { busSchema } from '../src/config/site-config.js';
import { ModbusBus } from '../src/modbus/bus.js';
import { serveSunSpecDevice, type SunSpecSimHandle } from '../src/sim/sunspec-device.js';
import { inverterChannels, meterChannels } from '../src/sunspec/channels.js';
import { SunSpecClient } from '../src/sunspec/client.js';
import { manualClock } from '../src/util/clock.js';
import { requireTool } from './helpers/pty.js';

/**
 * The SunSpec client against both simulated SunSpec devices over real Modbus TCP, through the
 * project's ModbusBus: scan, read with scale factors, a limit through 123 and through 704 with
 * read-back, and the revert after its timeout on a manual clock.
 */
const clock = manualClock(Date.UTC(2026, 5, 15, 9, 0)); // 12:00 in Kampala
const AVAILABLE_W = 4000;
let legacy: SunSpecSimHandle | undefined;
let der: SunSpecSimHandle | undefined;
const buses: ModbusBus[] = [];

function client(h: SunSpecSimHandle | undefined): SunSpecClient {
  assert.ok(h, 'simulator not started');
  const bus = new ModbusBus(
    busSchema.parse({ id: `ss${buses.length}`, transport: 'tcp', host: '127.0.0.1', port: h.listener.port, timeoutMs: 1000, retries: 0 }),
    clock,
  );
  buses.push(bus);
  return new SunSpecClient(bus, 1);
}

before(async () => {
  legacy = await serveSunSpecDevice({ kind: 'legacy', clock, ratingW: 5000, availableW: () => AVAILABLE_W });
  der = await serveSunSpecDevice({ kind: 'der', clock, ratingW: 6000, availableW: () => AVAILABLE_W });
});

after(async () => {
  for (const b of buses) await b.close();
  await legacy?.close();
  await der?.close();
});

test('scan finds SunS at 40000 and the model chain of the 1xx device, IDs and lengths', async () => {
  const c = client(legacy);
  const r = await c.scan();
  assert.equal(r.base, 40000);
  assert.deepEqual(
    r.models.map((m) => [m.id, m.length]),
    [
      [1, 66],
      [103, 50],
      [120, 26],
      [121, 30],
      [122, 44],
      [123, 24],
      [203, 105],
    ],
  );
  assert.equal(r.models[0]?.address, 40002);
  assert.equal(r.models[1]?.address, 40002 + 68);
});

test('scan walks the 7xx device, including 704 with its PF groups and 705 with a curve', async () => {
  const r = await client(der).scan();
  assert.equal(r.base, 40000);
  assert.deepEqual(
    r.models.map((m) => m.id),
    [1, 701, 702, 703, 704, 705, 802],
  );
  assert.equal(r.models.find((m) => m.id === 704)?.length, 65);
  assert.equal(r.models.find((m) => m.id === 705)?.length, 13 + 10 + 4 * 2, '13 registers, one curve of 10 and 4 points of 2');
});

test('the 1xx device reads with scale factors, not-implemented points are null, and maps to channels', async () => {
  const c = client(legacy);
  const all = await c.readAll();
  const common = all.get(1) ?? assert.fail('no model 1');
  assert.equal(common.values['Mn'], 'mgos-sim');
  assert.equal(common.values['SN'], 'SIM-legacy-1');
  const inv = all.get(103) ?? assert.fail('no model 103');
  assert.equal(inv.values['W'], AVAILABLE_W);
  assert.equal(inv.values['PhVphA'], 230.4, 'V_SF -1');
  assert.equal(inv.values['Hz'], 50.02, 'Hz_SF -2');
  assert.equal(inv.values['DCA'], null, 'DC current is not implemented on the simulated device');
  assert.equal(inv.values['St'], 4, 'MPPT');
  const ch = inverterChannels(all);
  assert.equal(ch['ActivePower'], AVAILABLE_W);
  assert.equal(ch['ActivePowerLimit'], 5000);
  assert.equal(ch['Voltage_L2'], 231.1);
  assert.ok(!('EnergyImport' in ch));
  const meter = all.get(203) ?? assert.fail('no meter model');
  const m = meterChannels(meter);
  // load 1200/1000/800 W per phase, PV 4000 W spread over three phases: the site exports on L2 and L3
  assert.equal(m['ActivePower'], 3000 - AVAILABLE_W);
  assert.equal(m['ActivePower_L1'], Math.round(1200 - AVAILABLE_W / 3));
  assert.equal(m['ActivePower_L3'], Math.round(800 - AVAILABLE_W / 3));
  assert.equal(m['Voltage_L1'], 230.4);
  assert.ok((m['EnergyImport'] ?? 0) > 2000, 'TotWhImp in kWh');
  assert.equal(meterChannels(meter, { invertPower: true })['ActivePower'], AVAILABLE_W - 3000);
});

test('a limit through model 123 with enable and revert reads back, curtails, and reverts after its timeout', async () => {
  const c = client(legacy);
  const r = await c.setActivePowerLimitPct(40, { revertS: 30, windowS: 5 });
  assert.equal(r.via, 123);
  assert.deepEqual(r.mismatch, []);
  assert.ok(r.ok);
  assert.equal(r.pct, 40);
  assert.equal(r.revertS, 30);
  const ctl = await c.readModel(123);
  assert.equal(ctl.values['WMaxLimPct_WinTms'], 5);
  assert.equal(legacy?.device.activePowerW, 2000, '40 % of 5 kW');
  let all = await c.readAll();
  assert.equal(all.get(103)?.values['W'], 2000);
  assert.equal(all.get(103)?.values['St'], 5, 'THROTTLED');
  assert.equal(inverterChannels(all)['ActivePowerLimit'], 2000);
  clock.advance(29_000);
  assert.equal((await c.readLimit(123)).enabled, true, 'still limited before the timeout');
  clock.advance(1_000);
  const back = await c.readLimit(123);
  assert.equal(back.enabled, false, 'reverted after 30 s');
  all = await c.readAll();
  assert.equal(all.get(103)?.values['W'], AVAILABLE_W);
  assert.equal(inverterChannels(all)['ActivePowerLimit'], 5000);
});

test('a limit through model 704 (DERCtlAC) reads back with its SF and reverts to WMaxLimPctRvrt', async () => {
  const c = client(der);
  const r = await c.setActivePowerLimitPct(12.5, { revertS: 60 });
  assert.equal(r.via, 704);
  assert.deepEqual(r.mismatch, []);
  assert.equal(r.pct, 12.5, 'WMaxLimPct_SF -2');
  const ctl = await c.readModel(704);
  assert.equal(ctl.values['WMaxLimPctEna'], 1);
  assert.equal(ctl.raw['WMaxLimPct'], 1250);
  assert.equal(ctl.values['WMaxLimPctRvrtRem'], 60);
  let all = await c.readAll();
  assert.equal(all.get(701)?.values['W'], 750, '12.5 % of 6 kW');
  assert.equal(inverterChannels(all)['ActivePower'], 750);
  assert.equal(inverterChannels(all)['ActivePowerLimit'], 750);
  assert.equal(inverterChannels(all)['Soc'], 62.5, 'battery 802 SoC_SF -1');
  clock.advance(45_000);
  assert.equal((await c.readModel(704)).values['WMaxLimPctRvrtRem'], 15);
  clock.advance(15_000);
  const back = await c.readLimit(704);
  assert.equal(back.enabled, false);
  assert.equal(back.pct, 100);
  all = await c.readAll();
  assert.equal(all.get(701)?.values['W'], AVAILABLE_W);
  // a limit without revert holds, and release takes it away
  assert.ok((await c.setActivePowerLimitPct(50)).ok);
  clock.advance(3_600_000);
  assert.equal((await c.readAll()).get(701)?.values['W'], 3000);
  assert.equal((await c.releaseActivePowerLimit()).enabled, false);
  assert.equal((await c.readModel(701)).values['W'], AVAILABLE_W);
});

test('704 is refused on a device without it, a read-only point is refused by the client and by the device', async () => {
  const c = client(legacy);
  const w = (await c.header(103))?.address ?? assert.fail('no 103');
  await assert.rejects(buses[buses.length - 1]?.writeRegisters(1, w + 14, [1]) ?? Promise.reject(new Error('no bus')), /exception|Illegal|address/i);
  await assert.rejects(c.setActivePowerLimitPct(50, { via: 704 }), /no SunSpec model 704/);
  await assert.rejects(c.writePoints(103, [['W', 1]]), /read-only/);
  await assert.rejects(c.setActivePowerLimitPct(120), /0-100 %/);
});

test('scan finds a marker at 0 and at 50001 (a device numbering from 1), and says so when there is none', async () => {
  for (const base of [0, 50001]) {
    const h = await serveSunSpecDevice({ kind: 'legacy', clock, base, availableW: () => AVAILABLE_W });
    try {
      const c = client(h);
      const r = await c.scan();
      assert.equal(r.base, base);
      assert.equal(r.models.length, 7);
      assert.equal((await c.readModel(103)).values['W'], AVAILABLE_W);
    } finally {
      await h.close();
    }
  }
  const none = await serveSunSpecDevice({ kind: 'legacy', clock, base: 30000 });
  try {
    await assert.rejects(client(none).scan(), /no SunS marker on unit 1/);
  } finally {
    await none.close();
  }
});

test('mbpoll (libmodbus) reads the SunS marker and the common model ID from our simulator', async (t) => {
  if (!requireTool('mbpoll', t)) return;
  const port = legacy?.listener.port ?? assert.fail('simulator not started');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      'mbpoll',
      ['-m', 'tcp', '-a', '1', '-p', String(port), '-r', '40001', '-c', '4', '-t', '4:hex', '-1', '127.0.0.1'],
      { timeout: 5000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}${stderr}`)) : resolve(stdout)),
    );
  });
  const words = [...out.matchAll(/^\[(\d+)\]:\s+0x([0-9A-Fa-f]{4})\s*$/gm)].map((m) => [Number(m[1]), parseInt(m[2] ?? '', 16)]);
  assert.deepEqual(
    words,
    [
      [40001, 0x5375],
      [40002, 0x6e53],
      [40003, 1],
      [40004, 66],
    ],
    out,
  );
});
