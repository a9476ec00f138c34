/**
 * Real time under HTTP load: poll cycle durations of 25 meters on one emulated 9600-baud bus, idle
 * and while 50 clients hammer history, intervals, daily energy and CSV and 5 hold the SSE stream,
 * side by side in one run; and readings stored per cycle in each phase (nothing may be lost).
 * The simulated meters run in a child process, like real meters, so their timing is not ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { loadProfiles } from '../src/drivers/profiles.js';
import type { CycleReport } from '../src/modbus/poller.js';
import { Recorder } from '../src/recorder/recorder.js';
import { recordSimulatedHistory } from '../src/recorder/simulated-history.js';
import { simulatedMeterConfigs, startSimulator } from '../src/sim/simulator.js';
import { openDatabase } from '../src/store/database.js';
import { startSystem } from '../src/system.js';
import { freePort, pct, runLoadClients } from './helpers.js';
import { fromRoot } from '../src/util/paths.js';

const PHASE_S = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const CLIENTS = 50;
const STREAMS = 5;
const POLL_MS = 3000;
const PASSWORD = 'realtime bench password';

async function spawnSim(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fromRoot('dist', 'src', 'cli', 'mgos.js'), 'sim', '--customers', '24', '--port', String(port), '--baud', '9600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`mgos sim exited with ${code}`)));
  });
  return child;
}

/** A few days of minute history first, so the queries read what a real site holds. */
function prefill(dbPath: string, meters: ReturnType<typeof simulatedMeterConfigs>, days: number): Promise<void> {
  return (async () => {
    const db = openDatabase(dbPath);
    const recorder = new Recorder(db, { flushIntervalMs: 60_000, rawRetentionDays: 90 });
    const sim = await startSimulator({ customers: 24, seed: 1, startMs: Date.now() - days * 86_400_000 });
    const config = { meters: meters.map((m) => ({ ...m, enabled: true, ctRatio: 1, ptRatio: 1, invert: false })) } as unknown as Parameters<
      typeof recordSimulatedHistory
    >[1];
    recordSimulatedHistory(sim, config, loadProfiles(), recorder, Date.now());
    await sim.close();
    db.close();
  })();
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-rt-'));
  const dbPath = path.join(dir, 'mgos.db');
  const meters = simulatedMeterConfigs(24);
  await prefill(dbPath, meters, 7);
  const simPort = await freePort();
  const sim = await spawnSim(simPort);
  const sys = await startSystem({
    config: {
      site: { id: 'rt', name: 'real-time bench', timezone: 'Africa/Kampala' },
      poll: { intervalMs: POLL_MS },
      storage: { path: dbPath, flushIntervalMs: 10_000 },
      http: { host: '127.0.0.1', port: 0 },
      buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: '127.0.0.1', port: simPort, baudRate: 9600, stopBits: 2 }],
      meters,
    },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  });
  const cycles: Array<CycleReport & { phase: string }> = [];
  let phase = 'warm-up';
  const unsubscribe = sys.site.live.subscribe(({ report }) => cycles.push({ ...report, phase }));
  // How long this process's event loop was held (the bus's replies wait behind it), per phase.
  const loopDelay = { idle: monitorEventLoopDelay({ resolution: 5 }), load: monitorEventLoopDelay({ resolution: 5 }) };
  const load1 = { idle: 0, load: 0 };
  const measure = async (p: 'idle' | 'load', during: () => Promise<unknown>): Promise<void> => {
    phase = p;
    loopDelay[p].enable();
    await during();
    loopDelay[p].disable();
    load1[p] = loadavg()[0] ?? NaN;
  };
  try {
    const login = await fetch(`${sys.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const token = ((await login.json()) as { token: string }).token;
    await new Promise((r) => setTimeout(r, 3 * POLL_MS)); // first full reads
    await measure('idle', () => new Promise((r) => setTimeout(r, PHASE_S * 1000)));
    let load: Awaited<ReturnType<typeof runLoadClients>> = { done: {}, failed: {} };
    await measure('load', async () => (load = await runLoadClients(sys.url, token, PHASE_S, CLIENTS, STREAMS)));
    phase = 'after';
    const of = (p: string): CycleReport[] => cycles.filter((c) => c.phase === p);
    const durations = (p: string): number[] => of(p).map((c) => c.durationMs);
    const readsPerCycle = (p: string): number => {
      const cs = of(p);
      return cs.length ? cs.reduce((n, c) => n + (meters.length - c.failedDevices - c.skippedDevices), 0) / cs.length : NaN;
    };
    // Readings the poller delivered against rows stored for the same cycles (after a flush).
    sys.recorder.flushAndBuild();
    const count = sys.db.prepare('SELECT count(*) AS n FROM readings WHERE ts >= ? AND ts <= ?');
    const lost = (p: string): number => {
      const cs = of(p);
      const from = Math.floor(Math.min(...cs.map((c) => c.startedAt)) / 1000);
      // Rows hold whole seconds (floored); ceil here would take in the next cycle's first second.
      const to = Math.floor(Math.max(...cs.map((c) => c.startedAt + c.durationMs)) / 1000);
      const stored = (count.get(from, to) as { n: number }).n;
      return cs.reduce((n, c) => n + meters.length - c.failedDevices - c.skippedDevices, 0) - stored;
    };
    const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
    const delay = (p: 'idle' | 'load'): string => `${ms(loopDelay[p].percentile(50))} / ${ms(loopDelay[p].percentile(99))} / ${ms(loopDelay[p].max)}`;
    const idle50 = pct(durations('idle'), 50);
    const load50 = pct(durations('load'), 50);
    const requests = Object.entries(load.done)
      .filter(([k]) => k !== 'sse bytes')
      .reduce((n, [, v]) => n + v, 0);
    return {
      meters: meters.length,
      'cycles idle / under load (of)': `${of('idle').length} / ${of('load').length} (${Math.floor((PHASE_S * 1000) / POLL_MS)})`,
      'cycle p50 idle (ms)': Math.round(idle50),
      'cycle p99 idle (ms)': Math.round(pct(durations('idle'), 99)),
      'cycle p50 load (ms)': Math.round(load50),
      'cycle p99 load (ms)': Math.round(pct(durations('load'), 99)),
      'p50 load / idle (goal <= 1.10)': Math.round((load50 / idle50) * 100) / 100,
      'p99 load / idle p99': Math.round((pct(durations('load'), 99) / pct(durations('idle'), 99)) * 100) / 100,
      'overruns under load': of('load').filter((c) => c.overrun).length,
      'meters read per cycle idle / load': `${readsPerCycle('idle').toFixed(2)} / ${readsPerCycle('load').toFixed(2)}`,
      'readings lost idle / load (goal 0)': `${lost('idle')} / ${lost('load')}`,
      'event loop delay idle p50/p99/max (ms)': delay('idle'),
      'event loop delay load p50/p99/max (ms)': delay('load'),
      'load average (1 min) after idle / load': `${load1.idle.toFixed(2)} / ${load1.load.toFixed(2)}`,
      'HTTP requests served under load': requests,
      'HTTP requests per s': Math.round(requests / PHASE_S),
      'HTTP failures': JSON.stringify(load.failed),
    };
  } finally {
    unsubscribe();
    await sys.close();
    sim.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
