import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { busSchema } from '../src/config/site-config.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { decodeBlock, DEFAULT_SCALING, splitSubComponents } from '../src/drivers/point-codec.js';
import { enumFor, type DeviceProfile } from '../src/drivers/profile-schema.js';
import { loadDeviceProfiles, loadProfiles } from '../src/drivers/profiles.js';
import { ModbusBus } from '../src/modbus/bus.js';
import { DEFAULT_BATTERY, DEFAULT_GENERATOR, DEFAULT_INVERTER, DEFAULT_PV } from '../src/sim/energy-system.js';
import { startSimulator, type SimulatorHandle } from '../src/sim/simulator.js';
import { PHASES } from '../src/sim/site-plan.js';
import { manualClock } from '../src/util/clock.js';
import { requireTool } from './helpers/pty.js';

/** The SRNE and generic ESS profiles read over real Modbus TCP from the simulator's inverter line. */
const NOON = Date.UTC(2026, 2, 10, 9, 0); // 12:00 at UTC+3: PV produces
const profiles = loadDeviceProfiles();
const profile = (m: string): DeviceProfile => profiles.get(m) ?? assert.fail(`no ${m} profile`);

let srne: SimulatorHandle | undefined;
let generic: SimulatorHandle | undefined;
const clock = manualClock(NOON);

before(async () => {
  const base = { battery: { ...DEFAULT_BATTERY, initialSoc: 0.73 }, pv: DEFAULT_PV, generator: DEFAULT_GENERATOR };
  srne = await startSimulator({
    seed: 5,
    customers: 6,
    clock,
    utcOffsetHours: 3,
    energy: { spec: { ...base, inverter: { ...DEFAULT_INVERTER, protocol: 'srne', phases: ['L1'] } }, srneVariant: 'HF' },
  });
  generic = await startSimulator({ seed: 5, customers: 6, clock, utcOffsetHours: 3, energy: { spec: { ...base, inverter: DEFAULT_INVERTER } } });
  for (const s of [srne, generic]) {
    s.energy?.system.setTotalSetpoint(-1200);
    for (let i = 0; i < 30; i++) {
      clock.advance(100);
      s.model.update();
    }
  }
});

after(async () => {
  await srne?.close();
  await generic?.close();
});

async function readAll(sim: SimulatorHandle, p: DeviceProfile, address: number): Promise<Record<string, number>> {
  const bus = new ModbusBus(busSchema.parse({ id: 'inv', transport: 'tcp', host: sim.host, port: sim.energy?.mbapPort ?? 0, timeoutMs: 1000 }), clock);
  try {
    const out: Record<string, number> = {};
    for (const b of planBlocks(p))
      Object.assign(out, decodeBlock(b, await bus.readRegisters(address, p.functionCode, b.start, b.count), { ...DEFAULT_SCALING, wordOrder: p.wordOrder }));
    return out;
  } finally {
    await bus.close();
  }
}

test('every profile loads; storage profiles are not offered as meter types', () => {
  assert.deepEqual([...loadProfiles().keys()].sort(), ['DDSU666', 'DTSU666']);
  assert.deepEqual([...profiles.keys()].sort(), ['GENERIC-ESS', 'GENERIC-GENSET', 'SRNE-HYBRID']);
  const s = profile('SRNE-HYBRID');
  assert.equal(s.capabilities?.activePowerSetpoint, false);
  assert.ok(s.capabilities.minModeDwellMs >= 900_000);
  assert.ok(
    planBlocks(s).every((b) => b.count <= 32),
    'SRNE reads at most 32 registers',
  );
  const state = s.groups.flatMap((g) => g.points).find((p) => p.channel === 'EssState') ?? assert.fail();
  assert.equal(enumFor(s, state, 'HF')?.['5'], 'inverter operation');
  assert.equal(enumFor(s, state, 'SPLIT_EU')?.['3'], 'inverter');
});

test('SRNE over Modbus TCP: scales, signs, derived battery power, settings, state table', async () => {
  const sim = srne ?? assert.fail();
  const e = sim.energy ?? assert.fail();
  const v = splitSubComponents(await readAll(sim, profile('SRNE-HYBRID'), 1));
  const ess = v.get('') ?? assert.fail();
  const snap = e.system.snapshot();
  assert.equal(ess.Soc, Math.round(snap.soc * 100));
  assert.ok(Math.abs((ess.BatteryVoltage ?? 0) - snap.batteryVoltage) <= 0.051, `V ${ess.BatteryVoltage} vs ${snap.batteryVoltage}`);
  assert.ok(Math.abs((ess.BatteryCurrent ?? 0) - snap.batteryCurrent) <= 0.051, `A ${ess.BatteryCurrent} vs ${snap.batteryCurrent}`);
  assert.ok(Math.abs((ess.ActivePower ?? 0) - (ess.BatteryVoltage ?? 0) * (ess.BatteryCurrent ?? 0)) < 1e-6, 'ActivePower = V x I');
  // SBU by day with PV surplus on L1: the battery charges, so current and power are negative.
  assert.ok((ess.BatteryCurrent ?? 0) < 0 === snap.batteryCurrent < 0);
  assert.equal(ess.EssState, 5, 'inverter operation in the 11-state table');
  assert.equal(ess.OutputPriority, 2);
  assert.equal(ess.MaxChargeCurrent, 80);
  assert.equal(ess.MaxAcChargeCurrent, 60);
  const pv = v.get('pv') ?? assert.fail();
  assert.ok(Math.abs((pv.ActivePower ?? 0) - snap.pvW.L1) <= 0.5 + 1e-9, `pv ${pv.ActivePower} vs ${snap.pvW.L1}`);
  const grid = v.get('grid') ?? assert.fail();
  assert.ok(Math.abs((grid.ActivePower_L1 ?? 0) - Math.round(sim.model.phaseFlows().L1.mainW)) <= 1, 'grid L1 import positive after the sign flip');
});

test('SRNE refuses FC04 and reads of more than 32 registers, as the protocol document says', async () => {
  const sim = srne ?? assert.fail();
  const bus = new ModbusBus(busSchema.parse({ id: 'inv', transport: 'tcp', host: sim.host, port: sim.energy?.mbapPort ?? 0 }), clock);
  try {
    await assert.rejects(bus.readRegisters(1, 3, 0x0100, 33), /exception|0x0A|10/i);
    await assert.rejects(bus.readRegisters(1, 4, 0x0100, 4), /exception|illegal function|1/i);
  } finally {
    await bus.close();
  }
});

test('generic ESS over Modbus TCP: setpoint read-back, discharge-positive power, allowed powers, PV per phase', async () => {
  const sim = generic ?? assert.fail();
  const e = sim.energy ?? assert.fail();
  const v = splitSubComponents(await readAll(sim, profile('GENERIC-ESS'), 1));
  const ess = v.get('') ?? assert.fail();
  const snap = e.system.snapshot();
  assert.equal(ess.SetActivePower, -1200);
  assert.equal(ess.ActivePower, Math.round(PHASES.reduce((s, ph) => s + snap.essW[ph], 0)));
  assert.ok(ess.ActivePower < -1000, 'charging is negative');
  assert.equal(ess.AllowedDischargePower, Math.round(snap.allowedDischargeW));
  assert.equal(ess.Capacity, DEFAULT_BATTERY.capacityWh);
  assert.ok(Math.abs((ess.Soc ?? 0) - snap.soc * 100) <= 0.051);
  assert.equal(ess.EssState, 2);
  const pv = v.get('pv') ?? assert.fail();
  for (const ph of PHASES) assert.equal(pv[`ActivePower_${ph}`], Math.round(snap.pvW[ph]));
});

test('mbpoll (libmodbus) reads the SRNE battery block over Modbus TCP', async (t) => {
  if (!requireTool('mbpoll')) {
    t.skip('mbpoll missing');
    return;
  }
  const sim = srne ?? assert.fail();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'mbpoll',
      ['-m', 'tcp', '-p', String(sim.energy?.mbapPort), '-a', '1', '-t', '4', '-0', '-r', '0x0100', '-c', '4', '-1', sim.host],
      { timeout: 5000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout)),
    ),
  );
  const regs = new Map([...out.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]));
  const snap = sim.energy?.system.snapshot() ?? assert.fail();
  assert.equal(regs.get(0x0100), Math.round(snap.soc * 100), 'SoC %');
  assert.equal(regs.get(0x0101), Math.round(snap.batteryVoltage * 10), 'battery V x 0.1');
  // mbpoll -t 4 prints unsigned 16-bit words: a charging current is two's complement.
  const raw = regs.get(0x0102) ?? assert.fail('no current');
  assert.equal(raw > 32767 ? raw - 65536 : raw, Math.round(snap.batteryCurrent * 10), 'battery A x 0.1, discharge positive');
});
