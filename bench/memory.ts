/**
 * Memory: resident size of the running system (pollers, recorder, SQLite, HTTP API) with 100
 * simulated meters on two 9600-baud buses (RS-485 wire time emulated), after BENCH_MEMORY_MINUTES
 * (default 10). The simulators run in this process too, so the figure is an upper bound for mgos alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { startSimulator } from '../src/sim/simulator.js';
import { startSystem } from '../src/system.js';
import { SLOW_LINE, twoBusMeters } from './helpers.js';

const GOAL_MB = 150;
const PER_BUS = 49; // customers per bus: 2 x (49 + 1 main) = 100 meters

export async function run(minutes = Number(process.env.BENCH_MEMORY_MINUTES ?? 10)): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-mem-'));
  const sims = [
    await startSimulator({ customers: PER_BUS, seed: 1, lineSpeed: SLOW_LINE }),
    await startSimulator({ customers: PER_BUS, seed: 2, lineSpeed: SLOW_LINE }),
  ];
  const meters = twoBusMeters(PER_BUS);

  const sys = await startSystem({
    config: {
      site: { id: 'mem', name: 'memory bench' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { port: 0 },
      buses: sims.map((s, b) => ({ id: `bus${b}`, transport: 'rtu-over-tcp', host: s.host, port: s.rtuTcpPort, baudRate: 9600, stopBits: 2 })),
      meters,
    },
    adminPassword: 'memory bench password',
    logger: pino({ level: 'silent' }),
  });
  const samples: number[] = [];
  const started = Date.now();
  try {
    while (Date.now() - started < minutes * 60_000) {
      await new Promise((r) => setTimeout(r, 10_000));
      samples.push(process.memoryUsage().rss / 2 ** 20);
    }
    const overview = sys.site.meterList().filter((m) => sys.site.image.quality(m.key) === 'GOOD').length;
    const finalMb = samples[samples.length - 1] ?? process.memoryUsage().rss / 2 ** 20;
    return {
      meters: sys.site.meterList().length,
      'meters GOOD at the end': overview,
      minutes,
      'RSS at the end (MB)': Math.round(finalMb),
      'peak RSS (MB)': Math.round(Math.max(...samples, finalMb)),
      'heap used (MB)': Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      'RSS / 150 MB goal': Math.round((finalMb / GOAL_MB) * 100) / 100,
    };
  } finally {
    await sys.close();
    for (const s of sims) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
