/**
 * Edge cycle timing under polling and HTTP load (issue 10, benchmarks): start jitter p50/p99 and
 * duration of the 1 s control cycle while 100 meters are polled on two 9600-baud buses (RS-485 wire
 * time emulated; bench/memory.ts's layout) and the inverter line at the control period, idle and while
 * 50 clients hammer the history API (bench/load-clients.ts in a niced child process, as
 * bench/realtime-load.ts does), side by side; and the CPU share of this process over each window
 * (process.cpuUsage / wall time / cores). Goal: p99 jitter under 50 ms on 2 cores in both.
 * The simulators run in this process (like bench/memory.ts), so the CPU share is an upper bound for mgos.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { simulatedEnergyOptions } from '../src/sim/energy-config.js';
import { startSimulator } from '../src/sim/simulator.js';
import { startSystem } from '../src/system.js';
import { pct, runLoadClients, SLOW_LINE, twoBusMeters } from './helpers.js';

const PHASE_S = Number(process.env.BENCH_JITTER_SECONDS ?? 60);
const CLIENTS = 50;
const STREAMS = 5;
const PER_BUS = 49; // 2 x (49 customers + 1 main) = 100 meters
const PASSWORD = 'cycle jitter bench password';

const r1 = (x: number): number => Math.round(x * 10) / 10;

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-jitter-'));
  const energy = simulatedEnergyOptions({
    inverter: 'generic',
    capacityWh: 15_360,
    initialSoc: 0.6,
    maxPowerW: 6000,
    responseMs: 600,
    rampWPerS: 20_000,
    pvPeakWPerPhase: 2000,
    cloudiness: 0.5,
    generatorW: 0,
  } as Parameters<typeof simulatedEnergyOptions>[0]);
  const sims = [
    await startSimulator({ customers: PER_BUS, seed: 1, lineSpeed: SLOW_LINE, energy }),
    await startSimulator({ customers: PER_BUS, seed: 2, lineSpeed: SLOW_LINE }),
  ];
  const e = sims[0]?.energy;
  if (!e) throw new Error('no energy line');
  const meters = twoBusMeters(PER_BUS);
  const sys = await startSystem({
    config: {
      site: { id: 'jitter', name: 'cycle jitter bench', timezone: 'Africa/Kampala' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { host: '127.0.0.1', port: 0 },
      buses: [
        ...sims.map((s, b) => ({ id: `bus${b}`, transport: 'rtu-over-tcp', host: s.host, port: s.rtuTcpPort, baudRate: 9600, stopBits: 2 })),
        { id: 'energy', transport: 'tcp', host: sims[0]?.host ?? '127.0.0.1', port: e.mbapPort, baudRate: 9600, stopBits: 1, timeoutMs: 300, retries: 0 },
      ],
      meters,
      control: {
        devices: [
          { component: 'ess0', profile: 'GENERIC-ESS', bus: 'energy', address: 1, subComponents: { pv: 'pv0' } },
          { component: 'grid', profile: 'DTSU666', bus: 'energy', address: 3 },
        ],
        assets: [
          { type: 'grid-meter', component: 'grid', perPhase: true },
          { type: 'battery', component: 'ess0', control: 'setpoint', perPhase: true, maxChargeW: 6000, maxDischargeW: 6000 },
          { type: 'pv', component: 'pv0', ratedW: 6000 },
        ],
        controllers: [
          { kind: 'self-consumption', id: 'self' },
          { kind: 'zero-export', id: 'zero' },
          { kind: 'backup-reserve', id: 'reserve', floorPct: 20 },
        ],
        safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }], exportLimitW: 0 },
      },
    },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  });
  const control = sys.control;
  if (!control) throw new Error('the control section did not start');
  try {
    const login = await fetch(`${sys.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const token = ((await login.json()) as { token: string }).token;
    await new Promise((r) => setTimeout(r, 15_000)); // first full reads of 100 meters
    const window = async (load: boolean): Promise<{ jitter: number[]; duration: number[]; cpu: number; wallS: number; requests: number; failed: string }> => {
      const from = control.cycle.timing.cycles;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let requests = 0;
      let failed = '{}';
      if (load) {
        const r = await runLoadClients(sys.url, token, PHASE_S, CLIENTS, STREAMS);
        requests = Object.entries(r.done)
          .filter(([k]) => k !== 'sse bytes')
          .reduce((n, [, v]) => n + v, 0);
        failed = JSON.stringify(r.failed);
      } else await new Promise((r) => setTimeout(r, PHASE_S * 1000));
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const n = control.cycle.timing.cycles - from;
      const recs = control.log.recent(Math.min(n, 300));
      return {
        jitter: recs.map((c) => c.jitterMs),
        duration: recs.map((c) => c.durationMs),
        cpu: (cpu.user + cpu.system) / 1e6 / wallS / availableParallelism(),
        wallS,
        requests,
        failed,
      };
    };
    const idle = await window(false);
    const busy = await window(true);
    const timing = control.cycle.timing.summary();
    const pollReports = sys.site.meterList().filter((m) => sys.site.image.quality(m.key) === 'GOOD').length;
    return {
      cores: availableParallelism(),
      'meters (GOOD at the end)': `${meters.length} (${pollReports})`,
      'cycles idle / under load': `${idle.jitter.length} / ${busy.jitter.length}`,
      'start jitter p50 idle / load (ms)': `${r1(pct(idle.jitter, 50))} / ${r1(pct(busy.jitter, 50))}`,
      'start jitter p99 idle / load (ms, goal < 50)': `${r1(pct(idle.jitter, 99))} / ${r1(pct(busy.jitter, 99))}`,
      'start jitter max idle / load (ms)': `${r1(Math.max(...idle.jitter))} / ${r1(Math.max(...busy.jitter))}`,
      'cycle duration p50 idle / load (ms)': `${r1(pct(idle.duration, 50))} / ${r1(pct(busy.duration, 50))}`,
      'cycle duration p99 idle / load (ms)': `${r1(pct(idle.duration, 99))} / ${r1(pct(busy.duration, 99))}`,
      'overruns (whole run)': timing.overruns,
      'CPU share of all cores idle / load (this process, simulators included)': `${(idle.cpu * 100).toFixed(1)} % / ${(busy.cpu * 100).toFixed(1)} %`,
      'HTTP requests served under load (per s)': `${busy.requests} (${Math.round(busy.requests / busy.wallS)})`,
      'HTTP failures': busy.failed,
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
