import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siteConfigSchema } from '../src/config/site-config.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import type { CycleReport } from '../src/modbus/poller.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { simulatedMeterConfigs, startSimulator } from '../src/sim/simulator.js';

// 90 DDSU666 + 1 DTSU666 on one 9600-baud bus with the wire time emulated (as bench/bus-efficiency.ts).
// Reading every group of every meter in the first cycle took 13.7 s against a 10 s interval; the
// first full reads are now spread over several cycles, so none of the first cycles overruns.
test('91 meters at 9600 baud: none of the first 3 cycles overruns, and the first full reads come in', async (t) => {
  const sim = await startSimulator({ customers: 90, lineSpeed: { baudRate: 9600, parity: 'none', stopBits: 2, turnaroundMs: 0 } });
  const config = siteConfigSchema.parse({
    site: { id: 'spread', name: 'spread' },
    poll: { intervalMs: 10_000 },
    buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: sim.host, port: sim.rtuTcpPort, baudRate: 9600, stopBits: 2, timeoutMs: 1000 }],
    meters: simulatedMeterConfigs(90),
  });
  const site = new SiteRuntime(config, loadProfiles(), { add: () => undefined });
  t.after(async () => {
    await site.stop();
    await sim.close();
  });
  const [poller] = site.pollers();
  assert.ok(poller);
  const reports: CycleReport[] = [];
  for (let i = 0; i < 3; i++) reports.push(await poller.runCycle());
  assert.deepEqual(
    reports.map((r) => r.overrun),
    [false, false, false],
    `cycle durations: ${reports.map((r) => Math.round(r.durationMs)).join(', ')} ms`,
  );
  assert.ok(reports.every((r) => r.failedDevices === 0));
  // Every meter answered in every cycle, and a share of them read everything (energy included) each cycle.
  const withEnergy = site.meterList().filter((m) => site.image.get(m.key, 'EnergyImport')?.value !== undefined).length;
  assert.ok(withEnergy >= 3 * Math.ceil(91 / 6), `meters with energy after 3 cycles: ${withEnergy}`);
});
