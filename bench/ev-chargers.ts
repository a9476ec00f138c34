/**
 * EV chargers per site (issue 12, benchmarks): the edge cycle's start jitter p50/p99 and duration on one
 * site with the simulated inverter, battery and PV, first without chargers, then while 100 simulated OCPP
 * chargers with cars (bench/ev-charger-fleet.ts, its own process) are connected, charging, sending
 * MeterValues every BENCH_EV_METER_MS (default 2000: 50 messages a second) and following the charging
 * profiles the ev-surplus controller sets through the cycle; side by side, with this process's CPU
 * share. The site declares the 100 chargers as assets in both windows (without the fleet they are
 * simply not connected), so the difference is the chargers' traffic and their steering.
 * Set BENCH_EV_SECONDS (default 30), BENCH_EV_METER_MS (default 2000), BENCH_EV_BUDGET_MS (default 100).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { hashPassword } from '../src/auth/passwords.js';
import { startSystem } from '../src/system.js';
import { fromRoot } from '../src/util/paths.js';
import { pct } from './helpers.js';

const PHASE_S = Number(process.env.BENCH_EV_SECONDS ?? 30);
const METER_MS = Number(process.env.BENCH_EV_METER_MS ?? 2000);
const CHARGERS = 100;
/** The controllers' budget (ms); 100 as on a site. A shared, overloaded bench machine may need more. */
const BUDGET_MS = Number(process.env.BENCH_EV_BUDGET_MS ?? 100);
const PASSWORD = 'ev chargers bench password';
const CHARGER_PASSWORD = 'charger-fleet-secret';

const r1 = (x: number): number => Math.round(x * 10) / 10;

interface FleetResult {
  meterValues: number;
  profiles: number;
  charging: number;
  failed: Record<string, number>;
}

/** Starts the fleet; resolves `ready` once every charger charges, `done` with its counts at the end. */
function startFleet(url: string): { ready: Promise<void>; done: Promise<FleetResult> } {
  const child = spawn(
    process.execPath,
    [fromRoot('dist', 'bench', 'ev-charger-fleet.js'), url, CHARGER_PASSWORD, String(CHARGERS), String(PHASE_S), String(METER_MS), 'RFID-FLEET'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) markReady();
  });
  const done = new Promise<FleetResult>((resolve, reject) =>
    child.once('exit', () => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (last.startsWith('{')) resolve(JSON.parse(last) as FleetResult);
      else reject(new Error(`the charger fleet printed no result: ${out}`));
    }),
  );
  return { ready, done };
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-ev-bench-'));
  const hash = await hashPassword(CHARGER_PASSWORD);
  const ids = Array.from({ length: CHARGERS }, (_, i) => i + 1);
  const sys = await startSystem({
    config: {
      site: { id: 'evbench', name: 'EV chargers bench', timezone: 'Africa/Kampala' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { host: '127.0.0.1', port: 0 },
      sim: {
        enabled: true,
        seed: 5,
        customers: 3,
        port: 0,
        energy: { inverter: 'generic', capacityWh: 20_000, initialSoc: 0.6, maxPowerW: 6000, responseMs: 600, pvPeakWPerPhase: 3000, cloudiness: 0.5 },
      },
      control: {
        budgetMs: BUDGET_MS,
        devices: [
          { component: 'ess0', profile: 'GENERIC-ESS', bus: 'energy', address: 1, subComponents: { pv: 'pv0' } },
          { component: 'grid', profile: 'DTSU666', bus: 'energy', address: 3 },
        ],
        assets: [
          { type: 'grid-meter', component: 'grid', perPhase: true },
          { type: 'battery', component: 'ess0', control: 'setpoint', perPhase: true, maxChargeW: 6000, maxDischargeW: 6000 },
          { type: 'pv', component: 'pv0', ratedW: 9000 },
          ...ids.map((i) => ({ type: 'ev-charger', component: `ev${i}`, chargerId: `cp${i}`, phases: 1, maxW: 7360 })),
        ],
        controllers: [
          { kind: 'self-consumption', id: 'self' },
          // Surplus with a floor: every car charges, so every charger is steered.
          { kind: 'ev-surplus', id: 'ev', mode: 'min-surplus', importLimitW: 400_000, settleMs: 5000 },
        ],
        safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }], exportLimitW: null },
      },
      ocpp: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        heartbeatS: 60,
        chargers: ids.map((i) => ({ id: `cp${i}`, passwordHash: hash })),
        idTags: [{ idTag: 'RFID-FLEET', customerId: 'fleet' }],
      },
    },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  });
  const control = sys.control;
  const cs = sys.ocpp;
  if (!control || !cs) throw new Error('the control or ocpp section did not start');
  try {
    await new Promise((r) => setTimeout(r, 5000)); // the cycle's first reads
    const window = async (): Promise<{ jitter: number[]; duration: number[]; cpu: number; overruns: number }> => {
      const from = control.cycle.timing.cycles;
      const overruns0 = control.cycle.timing.summary().overruns;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, PHASE_S * 1000));
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const recs = control.log.recent(Math.min(control.cycle.timing.cycles - from, 300));
      return {
        jitter: recs.map((c) => c.jitterMs),
        duration: recs.map((c) => c.durationMs),
        cpu: (cpu.user + cpu.system) / 1e6 / wallS / availableParallelism(),
        overruns: control.cycle.timing.summary().overruns - overruns0,
      };
    };
    const stoppedNow = (): string =>
      control.cycle
        .controllers()
        .filter((c) => c.stopped)
        .map((c) => c.id)
        .join(', ') || 'none';
    const without = await window();
    const stoppedBefore = stoppedNow();
    const fleet = startFleet(`ws://127.0.0.1:${cs.boundPort}`);
    const c0 = performance.now();
    await fleet.ready;
    const connectS = (performance.now() - c0) / 1000;
    const stoppedAfterConnect = stoppedNow();
    const writes0 = [...control.evQueues.values()].reduce((n, q) => n + q.state().writes, 0);
    const busy = await window();
    const writes = [...control.evQueues.values()].reduce((n, q) => n + q.state().writes, 0) - writes0;
    const connected = cs.connected().length;
    const evState = control.cycle.controllers().find((c) => c.id === 'ev')?.status.state ?? 'missing';
    const result = await fleet.done;
    const pair = (f: (w: typeof without) => number): string => `${r1(f(without))} / ${r1(f(busy))}`;
    return {
      cores: availableParallelism(),
      'chargers connected / charging at the end': `${connected} / ${result.charging}`,
      'cycles without / with chargers': `${without.jitter.length} / ${busy.jitter.length}`,
      'start jitter p50 without / with (ms)': pair((w) => pct(w.jitter, 50)),
      'start jitter p99 without / with (ms)': pair((w) => pct(w.jitter, 99)),
      'start jitter max without / with (ms)': pair((w) => Math.max(...w.jitter)),
      'cycle duration p50 without / with (ms)': pair((w) => pct(w.duration, 50)),
      'cycle duration p99 without / with (ms)': pair((w) => pct(w.duration, 99)),
      'overruns without / with': `${without.overruns} / ${busy.overruns}`,
      'CPU share of all cores without / with (mgos process)': `${(without.cpu * 100).toFixed(1)} % / ${(busy.cpu * 100).toFixed(1)} %`,
      'MeterValues handled (per s)': `${result.meterValues} (${Math.round(result.meterValues / PHASE_S)})`,
      'charging profiles written by the cycle in the window': writes,
      'fleet failures': JSON.stringify(result.failed),
      // A controller stopped for running past its budget (a starved CPU) leaves its assets safe: cars paused.
      'time for 100 chargers to connect, authorise and start (s)': r1(connectS),
      'controllers stopped past their budget: before / after the chargers connected / at the end': `${stoppedBefore} / ${stoppedAfterConnect} / ${stoppedNow()}`,
      'ev-surplus state at the end': evState,
    };
  } finally {
    await sys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
