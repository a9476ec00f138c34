/**
 * CLI start-up: wall time of `mgos --help` and of `mgos read` (one DDSU666 over RTU over TCP against the
 * simulator, answering at once) as a user runs them, a fresh node process each time. Prints the median of
 * BENCH_CLI_RUNS runs (default 11) and its ratio to the 300 ms goal; a ratio at or under 1 meets it.
 * On a shared machine wall time follows the load, so the CPU time per run (Linux) and the load average
 * are printed beside it. Needs a build (dist/src/cli/mgos.js).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startSimulator } from '../src/sim/simulator.js';
import { fromRoot } from '../src/util/paths.js';

const GOAL_MS = 300;
/** BENCH_CLI_MGOS times another build (e.g. an older checkout's dist/src/cli/mgos.js) for a before/after. */
const MGOS = process.env.BENCH_CLI_MGOS ?? fromRoot('dist', 'src', 'cli', 'mgos.js');
const exec = promisify(execFile);

/**
 * CPU time (user + system, ms) of the children this process has waited for, from /proc/self/stat
 * (cutime, cstime; 100 ticks a second). Other work on a shared machine stretches wall time but not this.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // fields 16 and 17 of proc(5), counted from state (3)
  } catch {
    return undefined;
  }
}

/** Median wall time of `node ...args`, a fresh process each run, and the mean CPU time a run took. */
async function measure(args: string[], runs: number): Promise<{ medianMs: number; cpuMs: number | undefined }> {
  const times: number[] = [];
  const cpu0 = childrenCpuMs();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await exec(process.execPath, args, { timeout: 30_000 });
    times.push(performance.now() - t0);
  }
  const cpu1 = childrenCpuMs();
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(runs / 2)] ?? NaN, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / runs };
}

export async function run(runs = Number(process.env.BENCH_CLI_RUNS ?? 11)): Promise<Record<string, number | string>> {
  if (!existsSync(MGOS)) throw new Error(`${MGOS} is missing: build first (npx tsc -p tsconfig.json)`);
  const sim = await startSimulator({ customers: 3 });
  try {
    const read = ['read', '--tcp', `127.0.0.1:${sim.rtuTcpPort}`, '--rtu-over-tcp', '--address', '2', '--type', '1phase', '--json'];
    await exec(process.execPath, [MGOS, ...read], { timeout: 30_000 }); // warms the OS file cache; also proves the read works
    const floor = await measure(['-e', '0'], runs);
    const help = await measure([MGOS, '--help'], runs);
    const readHelp = await measure([MGOS, 'read', '--help'], runs);
    const reading = await measure([MGOS, ...read], runs);
    const cpu = (m: { cpuMs: number | undefined }): number | string => (m.cpuMs === undefined ? 'n/a' : round(m.cpuMs));
    return {
      runs,
      'load average (1 min) at the end': round(loadavg()[0] ?? NaN),
      'node -e 0 (the floor): median ms': round(floor.medianMs),
      'node -e 0: CPU ms per run': cpu(floor),
      'mgos --help: median ms': round(help.medianMs),
      'mgos --help / 300 ms goal': round(help.medianMs / GOAL_MS),
      'mgos --help: CPU ms per run': cpu(help),
      'mgos read --help: median ms': round(readHelp.medianMs),
      'mgos read (DDSU666, RTU over TCP): median ms': round(reading.medianMs),
      'mgos read / 300 ms goal': round(reading.medianMs / GOAL_MS),
      'mgos read: CPU ms per run (user + system)': cpu(reading),
    };
  } finally {
    await sim.close();
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
