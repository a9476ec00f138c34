/**
 * Bus efficiency: 90 DDSU666 + 1 DTSU666 on one 9600-baud 8N2 bus, with the simulator emulating wire
 * time. Prints requests and bytes per cycle against the minimum the register maps need, and the cycle
 * time against the wire-time limit of docs/modbus.md#rs-485-timing (request + response on the wire
 * plus two t3.5 silences per transaction, meter answering instantly).
 */
import { pathToFileURL } from 'node:url';
import { siteConfigSchema } from '../src/config/site-config.js';
import { planBlocks } from '../src/drivers/block-plan.js';
import { registerWidth } from '../src/drivers/profile-schema.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { readTransactionMs, READ_REQUEST_BYTES, readResponseBytes, type LineSettings } from '../src/modbus/wire-time.js';
import { SiteRuntime } from '../src/site/site-runtime.js';
import { simulatedMeterConfigs, startSimulator } from '../src/sim/simulator.js';

const CUSTOMERS = 90;
const LINE: LineSettings = { baudRate: 9600, parity: 'none', stopBits: 2 };

export async function run(turnaroundMs = Number(process.env.BENCH_TURNAROUND_MS ?? 0)): Promise<Record<string, number | string>> {
  const profiles = loadProfiles();
  const sim = await startSimulator({ customers: CUSTOMERS, lineSpeed: { ...LINE, turnaroundMs } });
  const config = siteConfigSchema.parse({
    site: { id: 'bench', name: 'bench' },
    buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: sim.host, port: sim.rtuTcpPort, baudRate: 9600, stopBits: 2, timeoutMs: 1000 }],
    meters: simulatedMeterConfigs(CUSTOMERS),
  });
  const site = new SiteRuntime(config, profiles, { add: () => undefined });
  const [poller] = site.pollers();
  if (!poller) throw new Error('no poller');
  try {
    // Minimum per cycle: every group that is due is one request at best; bytes: only mapped registers.
    let minRequests = 0;
    let minBytes = 0;
    let wireLimitMs = 0;
    for (const m of config.meters) {
      const profile = profiles.get(m.type === '3phase' ? 'DTSU666' : 'DDSU666');
      if (!profile) throw new Error('profile missing');
      for (const block of planBlocks(profile)) {
        const share = 1 / block.every;
        const mapped = block.points.reduce((n, p) => n + registerWidth(p.type), 0);
        minRequests += share;
        minBytes += share * (READ_REQUEST_BYTES + readResponseBytes(mapped));
        wireLimitMs += share * readTransactionMs(LINE, block.count);
      }
    }
    await poller.runCycle(); // connect and warm up
    const bus = site.busViews()[0];
    const before = { requests: bus?.requests ?? 0, bytes: (bus?.bytesTx ?? 0) + (bus?.bytesRx ?? 0) };
    const cycles = 6; // one full round of the every-6th-cycle energy reads
    const durations: number[] = [];
    for (let i = 0; i < cycles; i++) durations.push((await poller.runCycle()).durationMs);
    const after = site.busViews()[0];
    const requestsPerCycle = ((after?.requests ?? 0) - before.requests) / cycles;
    const bytesPerCycle = ((after?.bytesTx ?? 0) + (after?.bytesRx ?? 0) - before.bytes) / cycles;
    const cycleMs = durations.reduce((a, b) => a + b, 0) / cycles;
    const limitWithTurnaround = wireLimitMs + minRequests * turnaroundMs;
    return {
      meters: config.meters.length,
      'requests per cycle': round(requestsPerCycle),
      'minimum requests per cycle': round(minRequests),
      'requests per meter per cycle': round(requestsPerCycle / config.meters.length),
      'bytes per cycle': Math.round(bytesPerCycle),
      'minimum bytes per cycle (mapped registers only)': Math.round(minBytes),
      'bytes ratio': round(bytesPerCycle / minBytes),
      'meter turnaround (ms)': turnaroundMs,
      'mean cycle (ms)': Math.round(cycleMs),
      'longest cycle (ms)': Math.round(Math.max(...durations)),
      'wire-time limit per cycle (ms)': Math.round(limitWithTurnaround),
      'cycle / wire-time limit (goal <= 1.2)': round(cycleMs / limitWithTurnaround),
      'cycle / 10 s poll interval': round(cycleMs / 10_000),
    };
  } finally {
    await site.stop();
    await sim.close();
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
