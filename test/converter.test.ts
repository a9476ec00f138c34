import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConverterRun, identifyOverDlt645, type ConversionResult } from '../src/commissioning/converter/converter.js';
import { openModbus } from '../src/commissioning/converter/line.js';
import type { ConverterEvent } from '../src/commissioning/converter/log.js';
import { identifyModel, readBaud, readProtocol, setBaud, setProtocol, writeAddress } from '../src/commissioning/converter/modbus.js';
import { assertSafeWrite, ConverterRefusal, type MeterPlan } from '../src/commissioning/converter/plan.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { serveBench, type BenchHandle } from '../src/sim/bench-server.js';
import { openPtyPair, requireTool } from './helpers/pty.js';

const FAST = { probeAttempts: 2, probeIntervalMs: 50 };

/** Runs the full process; at the operator step the "operator" switches the panel to n.2 and confirms. */
async function convert(
  bench: BenchHandle,
  plan: MeterPlan,
  line: { tcp?: string; port?: string } = { tcp: bench.tcp },
  extra: Partial<ConstructorParameters<typeof ConverterRun>[0]> = {},
): Promise<{ result: ConversionResult; events: ConverterEvent[] }> {
  const run = new ConverterRun({ line: { ...line, timeoutMs: 300 }, plan, ...FAST, ...extra });
  const events: ConverterEvent[] = [];
  run.on((e) => {
    events.push(e);
    if (e.type === 'operator-action') {
      assert.equal(run.state, 'waiting-for-operator');
      bench.meter.frontPanel.setProtocol('n.2', 701);
      run.operatorConfirmed();
    }
  });
  return { result: await run.start(), events };
}

const ids = (r: ConversionResult): string[] => r.steps.map((s) => `${s.id}:${s.status}`);

test('full process on a factory-fresh DDSU666: DL/T645 identify, panel switch, Modbus at 1, address 12, verified', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690', energyKWh: 12345.67 });
  try {
    const { result, events } = await convert(bench, { serial: '200322016690', model: 'DDSU666', address: 12 });
    assert.equal(result.ok, true, result.reason);
    assert.deepEqual(ids(result), ['plan:ok', 'identify:ok', 'protocol-switch:ok', 'modbus-probe:ok', 'set-address:ok', 'verify:ok']);
    assert.deepEqual(
      { serial: result.serial, model: result.model, address: result.address, energyKWh: result.energyKWh, voltage: result.voltage },
      { serial: '200322016690', model: 'DDSU666', address: 12, energyKWh: 12345.67, voltage: 230 },
    );
    const detail = Object.fromEntries(result.steps.map((s) => [s.id, s.detail]));
    assert.match(detail.plan ?? '', /DDSU666 200322016690: write 12 to 0x0006 at Modbus address 1/);
    assert.match(detail.identify ?? '', /serial 200322016690, positive active energy 12345\.67 kWh/);
    assert.match(detail['modbus-probe'] ?? '', /DDSU666 at address 1 on tcp .* 9600 8N2/);
    assert.match(detail['set-address'] ?? '', /acknowledged address 12/);
    assert.match(detail.verify ?? '', /address register holds 12; Voltage_L1 230\.0 V; Modbus import energy 12345\.67 kWh \(DL\/T645 said 12345\.67 kWh\)/);
    for (const s of result.steps) assert.ok(s.startedAt <= (s.finishedAt ?? '') && (s.durationMs ?? -1) >= 0);
    const operator = events.find((e) => e.type === 'operator-action');
    assert.ok(operator && operator.instructions.some((l) => /password 701/.test(l)) && operator.instructions.some((l) => /n\.2/.test(l)));
    assert.deepEqual(
      events.filter((e) => e.type === 'step-started').map((e) => e.step.status),
      Array(6).fill('running'),
    );
    assert.equal(bench.meter.modbusAddress, 12);
    assert.equal(bench.meter.protocol, 'n.2');
  } finally {
    await bench.close();
  }
});

test('full process on a factory-fresh DTSU666 writes 0x002E, never 0x0006 (the CT ratio)', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456', energyKWh: 42 });
  try {
    const { result } = await convert(bench, { model: 'DTSU666', address: 100 });
    assert.equal(result.ok, true, result.reason);
    assert.match(result.steps.find((s) => s.id === 'modbus-probe')?.detail ?? '', /DTSU666 at address 1 \(protocol n\.2, 9600 baud\)/);
    assert.match(result.steps.find((s) => s.id === 'plan')?.detail ?? '', /write 100 to 0x002E/);
    assert.equal(bench.meter.modbusAddress, 100);
    assert.equal(bench.meter.image.configValue(0x0006), 1, 'CT ratio unchanged');
  } finally {
    await bench.close();
  }
});

test('full process over a socat pty pair: DL/T645 at 9600 E.1, then Modbus at 9600 8N2 on the same port', async (t) => {
  if (!requireTool('socat', t)) return;
  const pty = await openPtyPair();
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023457', energyKWh: 7.5 }, { serialPaths: [pty.b] });
  try {
    const { result } = await convert(bench, { serial: '200415023457', model: 'DTSU666', address: 104 }, { port: pty.a });
    assert.equal(result.ok, true, result.reason);
    assert.match(result.steps.find((s) => s.id === 'identify')?.detail ?? '', /9600 8E1/);
    assert.equal(bench.meter.modbusAddress, 104);
  } finally {
    await bench.close();
    await pty.close();
  }
});

test('a plan that would write 0x0006 on a DTSU666 is refused before anything is sent', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456' });
  const profiles = loadProfiles();
  const dtsu = profiles.get('DTSU666') ?? assert.fail();
  profiles.set('DTSU666', { ...dtsu, addressRegister: 0x0006 }); // a mistaken profile edit
  try {
    const { result } = await convert(bench, { model: 'DTSU666', address: 100 }, undefined, { profiles });
    assert.equal(result.ok, false);
    assert.equal(result.failedStep, 'plan');
    assert.deepEqual(ids(result), ['plan:failed']);
    assert.match(result.reason ?? '', /refusing to write register 0x0006 on a DTSU666: there it is IrAt, the CT ratio, not the address/);
    assert.equal(bench.meter.counters.dlt645Requests, 0);
    assert.equal(bench.meter.image.configValue(0x0006), 1);
    assert.throws(() => assertSafeWrite('DTSU666', 0x0006), ConverterRefusal);
    assert.doesNotThrow(() => assertSafeWrite('DDSU666', 0x0006));
  } finally {
    await bench.close();
  }
});

test('inventory says DDSU666 but the bench meter is a DTSU666: refused at the probe, CT ratio untouched', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456' });
  try {
    const { result } = await convert(bench, { model: 'DDSU666', address: 12 });
    assert.equal(result.failedStep, 'modbus-probe');
    assert.match(
      result.reason ?? '',
      /expected a DDSU666 but the meter at address 1 is a DTSU666; nothing was written\. Writing the DDSU666 address register 0x0006 on it would change its CT ratio/,
    );
    assert.equal(bench.meter.image.configValue(0x0006), 1);
    assert.equal(bench.meter.modbusAddress, 1);
  } finally {
    await bench.close();
  }
});

test('a meter that does not answer gives a failed step with a clear reason', async () => {
  const silent = net.createServer((s) => s.on('data', () => undefined));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const r = await identifyOverDlt645({ tcp: `127.0.0.1:${port}`, timeoutMs: 200 });
    assert.equal(r.ok, false);
    assert.equal(r.steps[0]?.status, 'failed');
    assert.match(
      r.reason ?? '',
      /^no DL\/T645 reply to read-address \(0x13\) for AA AA AA AA AA AA within 200 ms on tcp 127\.0\.0\.1:\d+\. Check A\+\/B- wiring and power; only ONE meter may be on the line/,
    );
  } finally {
    silent.close();
  }
  // The operator confirms but the panel was never switched: the Modbus probe finds nobody.
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690' });
  try {
    const run = new ConverterRun({ line: { tcp: bench.tcp, timeoutMs: 150 }, plan: { model: 'DDSU666', address: 12 }, ...FAST });
    run.operatorConfirmed();
    const result = await run.start();
    assert.equal(result.failedStep, 'modbus-probe');
    assert.equal(result.serial, '200322016690');
    assert.match(result.reason ?? '', /no Modbus reply at address 1 on tcp .* 9600 8N2 after 2 attempts .*still in DL\/T645 mode; check Conn\/Protocol = n\.2/);
  } finally {
    await bench.close();
  }
});

test('the wrong meter on the bench, address 1, and an operator who never confirms are all stopped', async () => {
  const bench = await serveBench({ model: 'DDSU666', serial: '200322016690' });
  try {
    const wrong = await convert(bench, { serial: '200322016691', model: 'DDSU666', address: 12 });
    assert.equal(wrong.result.failedStep, 'identify');
    assert.match(wrong.result.reason ?? '', /the meter on the bench is 200322016690 but the plan is for 200322016691/);
    const one = await convert(bench, { model: 'DDSU666', address: 1 });
    assert.match(one.result.reason ?? '', /address 1 is the factory default/);
    const waiting = new ConverterRun({ line: { tcp: bench.tcp, timeoutMs: 300 }, plan: { model: 'DDSU666', address: 12 }, operatorTimeoutMs: 100 });
    const r = await waiting.start();
    assert.equal(r.failedStep, 'protocol-switch');
    assert.match(r.reason ?? '', /did not confirm the front-panel switch within 100 ms/);
    const cancelled = new ConverterRun({ line: { tcp: bench.tcp, timeoutMs: 300 }, plan: { model: 'DDSU666', address: 12 } });
    cancelled.on((e) => e.type === 'operator-action' && cancelled.cancel('operator pressed Ctrl-C'));
    assert.match((await cancelled.start()).reason ?? '', /cancelled: operator pressed Ctrl-C/);
  } finally {
    await bench.close();
  }
});

test('standalone Modbus operations: identify, change address, DTSU666 protocol and baud tables', async () => {
  const bench = await serveBench({ model: 'DTSU666', serial: '200415023456' });
  bench.meter.frontPanel.setProtocol('n.2');
  const bus = openModbus({ tcp: bench.tcp, timeoutMs: 300 });
  const profiles = loadProfiles();
  try {
    assert.deepEqual(await identifyModel(bus, 1), { model: 'DTSU666', address: 1, protocol: 'n.2', baudRate: 9600 });
    assert.equal(await writeAddress(bus, 'DTSU666', 1, 101, profiles), 'acknowledged');
    assert.equal(bench.meter.modbusAddress, 101);
    await setBaud(bus, 101, 19200);
    assert.equal(await readBaud(bus, 101), 19200);
    assert.equal(bench.meter.image.configValue(0x002d), 4);
    await assert.rejects(setBaud(bus, 101, 38400), /1200, 2400, 4800, 9600 or 19200/);
    assert.equal(await readProtocol(bus, 101), 'n.2');
    await setProtocol(bus, 101, 'E.1');
    assert.equal(bench.meter.protocol, 'E.1');
    await setProtocol(bus, 101, '645');
    assert.equal(bench.meter.speaksModbus, false, '0x002C = 1 takes the meter back to DL/T645');
  } finally {
    await bus.close();
    await bench.close();
  }
  const ddsu = await serveBench({ model: 'DDSU666', serial: '200322016690' });
  ddsu.meter.frontPanel.setProtocol('n.2');
  const bus2 = openModbus({ tcp: ddsu.tcp, timeoutMs: 300 });
  try {
    assert.deepEqual(await identifyModel(bus2, 1), { model: 'DDSU666', address: 1 });
    await assert.rejects(setProtocol(bus2, 1, 'n.1'), /expected a DTSU666 but the meter at address 1 is a DDSU666/);
  } finally {
    await bus2.close();
    await ddsu.close();
  }
});
