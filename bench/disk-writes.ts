/**
 * Disk writes of the whole system (recorder, intervals, alarms, billing with prepaid customers,
 * governance, sessions, the SMS outbox), the figure that decides how long a Pi's SD card lives.
 *
 * 100 meters on two simulated 9600-baud buses (wire time emulated) polled every 10 s. The
 * simulators run in the bench's process and mgos in a child, so /proc/<pid>/io `write_bytes` (bytes
 * the process caused to be sent to the storage layer) is mgos's alone. 99 customers are prepaid on
 * a tariff with credit, and a client holds a session and asks for the site and alarms every 10 s,
 * like an open browser. After a warm-up (first full reads, first flushes, first interval build),
 * the window runs BENCH_DISK_MINUTES (default 10). It starts and ends with a WAL checkpoint, so the
 * database file's share is in it. It holds a 15-minute interval build (the start waits for one if
 * needed) and, half-way, the hourly move of the closed hours to the chunks, forced because a short
 * window seldom holds hh:00 (it moves the prefill's last hour: ~100 chunks, as an hour would).
 *
 * Where the writes go:
 * - files: with `strace` on the PATH the system runs under `strace -f --seccomp-bpf -y` tracing
 *   only write syscalls, and the bytes written are summed per file (syscall bytes, not page-cache
 *   bytes, so they show the split, while write_bytes is the total);
 * - tables: bench/disk-writes-system.ts counts rows changed per table (every Statement.run) and
 *   WAL frames per table (page numbers in the -wal file's frame headers, mapped to tables and
 *   indexes by the `dbstat` virtual table).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { loadProfiles } from '../src/drivers/profiles.js';
import { backfill, type BackfillReading } from '../src/sim/backfill.js';
import { simulatedMeterConfigs, startSimulator, type SimulatorHandle } from '../src/sim/simulator.js';
import { resolveProfile } from '../src/site/devices.js';
import { openDatabase } from '../src/store/database.js';
import { archiveCutMs, archiveReadings } from '../src/store/archive.js';
import { buildIntervals } from '../src/store/intervals.js';
import { DEFAULT_NEAR_MS, INTERVAL_MS } from '../src/store/interval-calc.js';
import { ReadingWriter } from '../src/store/reading-writer.js';
import { systemClock } from '../src/util/clock.js';
import { fromRoot } from '../src/util/paths.js';
import { freePort, twoBusMeters } from './helpers.js';

const GOAL_MB_PER_DAY = 150;
const PER_BUS = 49; // customers per bus: 2 x (49 + 1 main) = 100 meters
const POLL_MS = 10_000;
const WARM_UP_MS = Number(process.env.BENCH_DISK_WARMUP_S ?? 75) * 1000;
const PASSWORD = 'disk bench password';
const TARIFF = {
  id: 'domestic',
  name: 'Domestic',
  currency: 'UGX',
  versions: [{ version: 1, effectiveFrom: '2020-01-01', energy: { kind: 'flat', priceE4: 750 * 10_000 } }],
};

const PREFILL_DAYS = Number(process.env.BENCH_DISK_PREFILL_DAYS ?? 3);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The simulated buses, in this process (mgos runs in its own, so write_bytes stays its alone). Their
 * simulated time starts where the prefill's does, so the counters the system reads continue the
 * stored history: a counter that stepped back would quarantine an interval and raise an alarm on
 * every meter, which a real site does not do.
 */
async function startSims(ports: number[], startMs: number): Promise<SimulatorHandle[]> {
  return Promise.all(
    ports.map((port, i) =>
      startSimulator({ customers: PER_BUS, seed: i + 1, port, startMs, lineSpeed: { baudRate: 9600, parity: 'none', stopBits: 2, turnaroundMs: 5 } }),
    ),
  );
}

type MeterCfg = Omit<ReturnType<typeof simulatedMeterConfigs>[number], 'role'> & { bus: string; address: number; role: string };

/**
 * Days of minute history first (the last two hours at the poll rate), written before the system starts (not counted): a site's tables
 * hold history, and where new rows land in a b-tree, and so how many pages a flush touches, depends on it.
 */
async function prefill(dbPath: string, meters: readonly MeterCfg[], startMs: number): Promise<number> {
  const db = openDatabase(dbPath);
  const writer = new ReadingWriter(db, { maxPending: 1e9 });
  const profiles = loadProfiles();
  const until = systemClock();
  let n = 0;
  try {
    for (const [b, seed] of [
      [0, 1],
      [1, 2],
    ] as const) {
      const onBus = meters.filter((m) => m.bus === `bus${b}`);
      const sim = await startSimulator({ customers: PER_BUS, seed, startMs });
      const byAddress = new Map(onBus.map((m) => [m.address, m]));
      const channelsOf = (address: number): string[] => {
        const m = byAddress.get(address);
        return m ? resolveProfile(m.type, profiles).groups.flatMap((g) => g.points.map((p) => p.channel)) : [];
      };
      const add = (r: BackfillReading): void => {
        const m = byAddress.get(Number(r.meter.slice('meter'.length)));
        if (!m) return;
        writer.add({ ...r, meter: `meter${m.id}` });
        if (writer.pendingCount >= 50_000) writer.flush();
      };
      // Minutes for the days, then the last two hours at the poll rate: the hour the window's move
      // takes to the chunks holds what an hour of polling holds.
      n += backfill(sim.model, until - 2 * 3_600_000, 60_000, channelsOf, add);
      n += backfill(sim.model, until, POLL_MS, channelsOf, add);
      writer.flush();
      await sim.close();
    }
    archiveReadings(db, archiveCutMs(until));
    while (buildIntervals(db, until) > 0) {
      // the next slice of the backlog
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    return n;
  } finally {
    db.close();
  }
}

interface Stats {
  rows: Record<string, number>;
  walFrames: number;
  walResets: number;
  pageSize: number;
  walByTable: Record<string, number>;
}

class SystemChild {
  private readonly lines: Interface;
  private readonly waiting: Array<(line: string) => void> = [];
  private constructor(
    readonly proc: ChildProcess,
    readonly pid: number,
    readonly url: string,
    lines: Interface,
  ) {
    this.lines = lines;
    lines.on('line', (l) => this.waiting.shift()?.(l));
  }

  static async start(configFile: string, traceFile: string | null): Promise<SystemChild> {
    const node = [process.execPath, fromRoot('dist', 'bench', 'disk-writes-system.js'), configFile];
    const argv = traceFile
      ? ['strace', '-f', '--seccomp-bpf', '-qq', '-y', '-ttt', '-e', 'trace=write,pwrite64,writev,pwritev,pwritev2', '-o', traceFile, ...node]
      : node;
    const proc = spawn(argv[0] ?? 'node', argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: proc.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`the system exited with ${code}`)));
    });
    const m = /^ready (\d+) (\S+)$/.exec(first);
    if (!m) throw new Error(`unexpected first line from the system: ${first}`);
    return new SystemChild(proc, Number(m[1]), m[2] ?? '', lines);
  }

  async ask<T>(command: string): Promise<T> {
    const line = new Promise<string>((resolve) => this.waiting.push(resolve));
    this.proc.stdin?.write(`${command}\n`);
    return JSON.parse(await line) as T;
  }

  stats(): Promise<Stats> {
    return this.ask<Stats>('stats');
  }

  io(): { writeBytes: number; cancelled: number } {
    const text = readFileSync(`/proc/${this.pid}/io`, 'utf8');
    const field = (k: string): number => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { writeBytes: field('write_bytes'), cancelled: field('cancelled_write_bytes') };
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin?.write('stop\n');
    await Promise.race([exited, sleep(20_000)]);
    this.lines.close();
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

async function api(url: string, method: string, route: string, token: string | null, body?: unknown): Promise<unknown> {
  const r = await fetch(`${url}${route}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${route}: ${r.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

/** Sums syscall bytes per file path in the strace log, within [fromS, toS] (epoch seconds). */
function bytesPerFile(traceFile: string, fromS: number, toS: number, dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = /^\d+\s+(\d+\.\d+)\s+\w+\(\d+<([^>]*)>.*\)\s+=\s+(\d+)/;
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const t = Number(m[1]);
    const file = m[2] ?? '';
    if (t < fromS || t > toS || !file.startsWith('/') || file.startsWith('/dev/')) continue;
    const name = file.startsWith(dir) ? path.relative(dir, file) : file;
    out[name] = (out[name] ?? 0) + Number(m[3]);
  }
  return out;
}

const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.keys({ ...a, ...b })
      .map((k): [string, number] => [k, (b[k] ?? 0) - (a[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );

const top = (o: Record<string, number>, n = 8, fmt: (v: number) => string = String): string =>
  Object.entries(o)
    .sort((x, y) => y[1] - x[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');

const kb = (v: number): string => `${(v / 1024).toFixed(0)} KB`;

export async function run(minutes = Number(process.env.BENCH_DISK_MINUTES ?? 10)): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-disk-'));
  const useStrace = process.env.BENCH_DISK_STRACE !== '0' && spawnSync('strace', ['-V']).status === 0;
  const traceFile = useStrace ? path.join(tmpdir(), `mgos-disk-${process.pid}.strace`) : null;
  const ports = [await freePort(), await freePort()];
  const startMs = systemClock() - PREFILL_DAYS * 86_400_000;
  const sims = await startSims(ports, startMs);
  let sys: SystemChild | null = null;
  try {
    const meters: MeterCfg[] = twoBusMeters(PER_BUS);

    const prefilled = await prefill(path.join(dir, 'data', 'mgos.db'), meters, startMs);
    const configFile = path.join(dir, 'site.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        site: { id: 'disk', name: 'disk bench', timezone: 'Africa/Kampala' },
        poll: { intervalMs: POLL_MS },
        storage: { path: path.join(dir, 'data', 'mgos.db') },
        http: { host: '127.0.0.1', port: 0 },
        billing: { currency: 'UGX' },
        buses: ports.map((port, b) => ({ id: `bus${b}`, transport: 'rtu-over-tcp', host: '127.0.0.1', port, baudRate: 9600, stopBits: 2 })),
        meters,
      }),
    );
    sys = await SystemChild.start(configFile, traceFile);
    const { url } = sys;
    // Billing with customers: every customer meter prepaid, with credit.
    const { token } = (await api(url, 'POST', '/api/login', null, { username: 'admin', password: PASSWORD })) as { token: string };
    await api(url, 'POST', '/api/tariffs', token, TARIFF);
    const customers = meters.filter((m) => m.role !== 'main');
    for (const m of customers) {
      await api(url, 'POST', '/api/customers', token, {
        id: `c${m.id}`,
        name: `Customer ${m.id}`,
        phone: '+256772000000',
        tariffId: TARIFF.id,
        mode: 'prepaid',
        meter: m.id,
      });
      await api(url, 'POST', '/api/payments/cash', token, { account: `c${m.id}`, amountMinor: 5_000_000, currency: 'UGX', receipt: `R-${m.id}` });
    }
    // An open browser: the site and the alarms every poll interval.
    const client = { browsing: true };
    const browser = (async () => {
      while (client.browsing) {
        await api(url, 'GET', '/api/site', token).catch(() => undefined);
        await api(url, 'GET', '/api/alarms', token).catch(() => undefined);
        await sleep(POLL_MS);
      }
    })();
    console.log(`warming up for ${WARM_UP_MS / 1000} s (first full reads, flushes and interval build)`);
    await sleep(WARM_UP_MS);
    // The window must hold a 15-minute interval build, due DEFAULT_NEAR_MS after the interval ends at
    // the next flush (within 30 s): if the next one ends later than a minute before the window would,
    // start 15 s before it is due. Waiting until it could be in the window's last minute made a window
    // of 1 minute start after it (0 intervals built).
    const due = Math.ceil(systemClock() / INTERVAL_MS) * INTERVAL_MS + DEFAULT_NEAR_MS;
    const windowEnd = systemClock() + minutes * 60_000 - 60_000;
    if (due + 30_000 > windowEnd) {
      const waitMs = Math.max(0, due - 15_000 - systemClock());
      // Said, since it can be most of 15 minutes (it looked hung without a word).
      console.log(`waiting ${Math.round(waitMs / 1000)} s so that the window holds a 15-minute interval build`);
      await sleep(waitMs);
    }
    // The window starts and ends with a checkpoint: its bytes include what the WAL's pages cost in the
    // database file (an automatic checkpoint comes every 1000 pages, rarer than a short window).
    await sys.ask('checkpoint');
    const s0 = await sys.stats();
    const io0 = sys.io();
    const t0 = systemClock();
    // Half-way, the hourly move to the chunks runs (forced: a 10-minute window seldom holds hh:00):
    // the closed hours of the recent table (the prefill's last hour and what was polled before hh:00).
    // Its bytes are also measured on their own (checkpoint before, the move and a checkpoint after).
    await sleep((minutes * 60_000) / 2);
    await sys.ask('checkpoint');
    const ioMove0 = sys.io();
    const { moved: movedInWindow } = await sys.ask<{ moved: number }>('archive-hour');
    const moveBytes = sys.io().writeBytes - ioMove0.writeBytes;
    // And the daily move of the intervals, measured the same way; once a day, so counted apart.
    await sys.ask('checkpoint');
    const ioDay0 = sys.io();
    const { moved: intervalsMoved } = await sys.ask<{ moved: number }>('move-intervals-day');
    const dayMoveBytes = sys.io().writeBytes - ioDay0.writeBytes;
    await sleep((minutes * 60_000) / 2);
    await sys.ask('checkpoint');
    const s1 = await sys.stats();
    const io1 = sys.io();
    const t1 = systemClock();
    client.browsing = false;
    await browser;
    const seconds = (t1 - t0) / 1000;
    const windowBytes = io1.writeBytes - io0.writeBytes - dayMoveBytes;
    const stored = (s: Stats): number => (s.rows.readings ?? 0) + (s.rows['readings (journal)'] ?? 0);
    const readings = stored(s1) - stored(s0);
    const perReading = windowBytes / Math.max(1, readings);
    const bytes = perReading * readings;
    const perDay = (bytes / seconds) * 86_400;
    // Extrapolated to 100 meters at 10 s: 864,000 readings a day.
    const perDay100 = readings > 0 ? perReading * 864_000 : NaN;
    const steadyMB = (((windowBytes - moveBytes) / Math.max(1, readings)) * 864_000 + moveBytes * 24 + dayMoveBytes) / 1e6;
    const rows = diff(s0.rows, s1.rows);
    const wal = diff(s0.walByTable, s1.walByTable);
    const walFrames = s1.walFrames - s0.walFrames;
    const files = traceFile ? bytesPerFile(traceFile, t0 / 1000, t1 / 1000, path.join(dir, 'data')) : {};
    return {
      meters: meters.length,
      'history before the run (readings, days)': `${prefilled}, ${PREFILL_DAYS}`,
      'window (s)': Math.round(seconds),
      'readings stored': readings,
      'write_bytes in window (ends with a checkpoint)': windowBytes,
      cancelled_write_bytes: io1.cancelled - io0.cancelled,
      'hourly move in the window: rows moved to chunks, write_bytes (with its checkpoint)': `${movedInWindow}, ${moveBytes}`,
      'write_bytes in window without the move: per reading, MB/day for 100 meters': `${Math.round((windowBytes - moveBytes) / Math.max(1, readings))}, ${Math.round(((windowBytes - moveBytes) / Math.max(1, readings)) * 0.864)}`,
      'the move, once an hour: MB/day': Math.round((moveBytes * 24) / 1e6),
      "the daily move of yesterday's intervals: intervals, write_bytes (not in the window figures)": `${intervalsMoved}, ${dayMoveBytes}`,
      'MB per day for 100 meters at 10 s, steady state (window without the move, plus 24 moves and the daily one)': Math.round(steadyMB),
      'intervals built in the window': rows.intervals_recent ?? 0,
      'bytes per reading (whole window, move included)': Math.round(perReading),
      'MB per day (this run)': Math.round(perDay / 1e6),
      'MB per day for 100 meters at 10 s': Math.round(perDay100 / 1e6),
      'ratio of the steady state to the 150 MB/day goal': Math.round((steadyMB / GOAL_MB_PER_DAY) * 100) / 100,
      'files (syscall bytes, strace)': traceFile ? top(files, 8, kb) : 'strace not available',
      'WAL frames (page writes) / checkpoint resets': `${walFrames} (${kb(walFrames * (s1.pageSize + 24))}) / ${s1.walResets - s0.walResets}`,
      'WAL frames per table or index': top(wal, 10),
      'rows written per table': top(rows, 12),
    };
  } finally {
    await sys?.stop();
    for (const s of sims) await s.close();
    rmSync(dir, { recursive: true, force: true });
    if (traceFile) rmSync(traceFile, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
