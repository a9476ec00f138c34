/** Setup shared by the benchmarks (not a benchmark itself: run-all.ts does not list it). */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { simulatedMeterConfigs } from '../src/sim/simulator.js';
import { fromRoot } from '../src/util/paths.js';

/** A TCP port free on 127.0.0.1 at the time of asking. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });

/** The p-th percentile (nearest rank) of xs; NaN when xs is empty. */
export const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) : NaN;
};

/** A 9600-baud RS-485 line with its wire time emulated (8N2, 5 ms turnaround). */
export const SLOW_LINE = { baudRate: 9600, parity: 'none' as const, stopBits: 2 as const, turnaroundMs: 5 };

/**
 * The meters of two simulated buses of `perBus` customers and one main each (bench/memory.ts's layout):
 * bus0 keeps the simulator's ids and roles, bus1's meters get ids 150.. (its main 200) and are all customers.
 */
export const twoBusMeters = (perBus: number) =>
  [0, 1].flatMap((b) =>
    simulatedMeterConfigs(perBus).map((m) => ({
      ...m,
      id: b === 0 ? m.id : m.id === 100 ? 200 : 149 + m.id,
      address: m.id,
      name: `${m.name}_b${b}`,
      bus: `bus${b}`,
      role: b === 0 ? m.role : 'customer',
    })),
  );

export interface LoadResult {
  done: Record<string, number>;
  failed: Record<string, number>;
}

/**
 * Runs bench/load-clients.ts against url for `seconds`: `clients` clients on the history API and
 * `streams` on the SSE stream. The clients stand for phones and laptops on other machines: at the
 * lowest CPU priority here, so on a 2-core bench they take what the system leaves rather than starve
 * it (and the meters).
 */
export function runLoadClients(url: string, token: string, seconds: number, clients: number, streams: number): Promise<LoadResult> {
  const child = spawn(
    'nice',
    ['-n', '19', process.execPath, fromRoot('dist', 'bench', 'load-clients.js'), url, token, String(seconds), String(clients), String(streams), 'meter2'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', () => (out ? resolve(JSON.parse(out) as LoadResult) : reject(new Error('load clients printed nothing')))),
  );
}
