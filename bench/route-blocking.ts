/**
 * Which HTTP routes block the main event loop (issue 10 item 1: HTTP load must not delay the edge
 * cycle). The demo system with 100 meters (98 simulated customers, the main meter and the inverter
 * line's grid meter) and its seeded billing runs in this process; every GET route in the OpenAPI
 * document the server generates is called with an admin session and realistic parameters by 4 clients
 * in a child process for BENCH_ROUTE_SECONDS (default 4) each, while this process measures its event
 * loop delay (perf_hooks) and the edge cycle's own start jitter. Printed worst (longest stall) first. Then the cycle
 * start jitter and event loop delay idle vs while 50 clients hammer the 6 worst routes (BENCH_ROUTE_LOAD_SECONDS,
 * default 30), with the load average beside them (the machine may be shared).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { fromRoot } from '../src/util/paths.js';
import { pct } from './helpers.js';

const ROUTE_S = Number(process.env.BENCH_ROUTE_SECONDS ?? 4);
const LOAD_S = Number(process.env.BENCH_ROUTE_LOAD_SECONDS ?? 30);
const ONLY = process.env.BENCH_ROUTE_ONLY; // a substring of the routes to measure (quick re-runs)
const PASSWORD = 'route blocking bench password';
/**
 * The machine is shared: a loop delay maximum alone also catches the moments this process waited for a
 * CPU. A route that blocks does so on every request, so each route is also asked alone STALL_RUNS times
 * and the median of those windows' maxima is its stall.
 */
const STALL_RUNS = 3;
const DAY = 86_400_000;

interface Load {
  done: Record<string, number>;
  failed: Record<string, number>;
  bytes: number;
}

/** bench/route-clients.ts at the lowest priority: the clients stand for browsers on other machines. */
function clients(url: string, token: string, seconds: number, n: number, paths: readonly string[], perClient = Infinity): Promise<Load> {
  const args = [fromRoot('dist', 'bench', 'route-clients.js'), url, token, String(seconds), String(n), JSON.stringify(paths), String(perClient)];
  const child = spawn('nice', ['-n', '19', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', () => (out ? resolve(JSON.parse(out) as Load) : reject(new Error('route clients printed nothing')))),
  );
}

interface Window {
  /** The longest stall of the event loop while one request of each of the route's URLs was answered, median of STALL_RUNS. */
  stall?: number;
  loopP99: number;
  loopMax: number;
  jitterP99: number;
  jitterMax: number;
  cycles: number;
  load: Load;
  load1: number;
}

/** Event loop delay (ms) and the edge cycle's start jitter over `during`. */
async function measure(sys: RunningSystem, during: () => Promise<Load>): Promise<Window> {
  const control = sys.control;
  if (!control) throw new Error('the demo has a control section');
  const h = monitorEventLoopDelay({ resolution: 5 });
  const from = control.cycle.timing.cycles;
  h.enable();
  const load = await during();
  h.disable();
  const n = control.cycle.timing.cycles - from;
  const jitter = control.log.recent(Math.max(1, Math.min(n, 300))).map((c) => c.jitterMs);
  const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
  return {
    loopP99: ms(h.percentile(99)),
    loopMax: ms(h.max),
    jitterP99: Math.round(pct(jitter, 99) * 10) / 10,
    jitterMax: Math.round(Math.max(...jitter) * 10) / 10,
    cycles: n,
    load,
    load1: loadavg()[0] ?? NaN,
  };
}

type Json = Record<string, unknown>;

/**
 * What a site holds after a month that the demo's first start does not: the edge cycle's audit chain
 * (an actuation run is merged into one entry per minute, src/edge/decision-log.ts; two commands all
 * month) and the inventory of the site's 100 meters (the spreadsheet import).
 */
async function prefill(sys: RunningSystem, post: (p: string, body: unknown) => Promise<number>): Promise<number> {
  const now = sys.site.now();
  const entries = Number(process.env.BENCH_ROUTE_AUDIT ?? 2 * 30 * 1440);
  const audit = sys.billing.audit;
  sys.db.transaction(() => {
    for (let i = 0; i < entries; i++) {
      const ts = now - 30 * DAY + Math.floor((i * 30 * DAY) / entries);
      audit.append({
        ts,
        actor: 'system',
        action: 'actuated',
        detail: `ess0 setpoint ${(i % 600) * 10} W per phase (self-consumption), read back within tolerance`,
      });
    }
  })();
  const header =
    'Meter Serial Number,Meter Type,Site Name,Building/Customer,Assigned Modbus Address,Status,Date Assigned,Date Converted,Date Installed,Date Commissioned,Converted By,Installed By,Commissioned By,Notes';
  const rows = sys.site
    .meterList()
    .map(
      (m, i) =>
        `2003220${String(16000 + i).padStart(5, '0')},${m.model},${sys.config.site.name},House ${m.address},${m.address},Commissioned,2026-04-01,2026-04-02,2026-04-03,2026-04-04,Jane Doe,John Smith,Alice Johnson,`,
    );
  const status = await post('/api/inventory/import', { csv: [header, ...rows].join('\n') });
  if (status !== 200) throw new Error(`inventory import answered ${status}`);
  return entries;
}

/** Realistic requests for each GET route of the OpenAPI document; several for a route that serves more than one thing. */
async function requests(sys: RunningSystem, get: (p: string) => Promise<Json>): Promise<Map<string, string[]>> {
  const doc = (await get('/api/openapi.json')) as {
    paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required: boolean }> }>>;
  };
  const now = sys.site.now();
  const day = new Date(now).toISOString().slice(0, 10);
  const invoices = sys.db.prepare<[], number>('SELECT id FROM billing_invoices ORDER BY id').pluck().all();
  const alarm = ((await get('/api/alarms')).alarms as Array<{ id: number }> | undefined)?.[0]?.id ?? 1;
  const serial = ((await get('/api/inventory')).meters as Array<{ serial: string }> | undefined)?.[0]?.serial ?? 'none';
  const bus = sys.config.buses[0]?.id ?? 'bus1';
  // The busiest customer's statement (prepaid: a charge per day of history), the main meter's history.
  const customer = 'amina';
  const meter = 'meter100';
  const params: Record<string, string[]> = {
    key: [meter],
    id: [customer],
    file: invoices.flatMap((i) => [`${i}.pdf`, `${i}.csv`]).slice(0, 4),
    serial: [serial],
    version: ['1'],
    start: [String(now - DAY)],
  };
  const queries: Record<string, string> = {
    '/api/meters/{key}/history': `channel=ActivePower&from=${now - 7 * DAY}&to=${now}`,
    '/api/meters/{key}/intervals': `from=${now - 7 * DAY}&to=${now}`,
    '/api/meters/{key}/daily': `from=${now - 31 * DAY}&to=${now}`,
    '/api/meters/{key}/csv': `date=${day}`,
    '/api/control/audit': 'verify=1&limit=500',
    '/api/control/decisions': 'cycles=300',
    '/api/audit': `from=${now - 31 * DAY}`,
    '/api/address-plan/suggest': `bus=${bus}&phases=1`,
    '/api/address-plan/check': `bus=${bus}&phases=1&address=30`,
    '/api/payments/reconciliation': `from=${now - 31 * DAY}&to=${now}`,
    '/api/payments': `account=${customer}`,
  };
  const out = new Map<string, string[]>();
  for (const [p, ops] of Object.entries(doc.paths)) {
    if (!ops.get || p === '/api/stream') continue;
    if (ONLY && !p.includes(ONLY)) continue;
    let urls = [p];
    for (const prm of ops.get.parameters ?? []) {
      if (prm.in !== 'path') continue;
      const values =
        prm.name !== 'id' || p.startsWith('/api/customers')
          ? (params[prm.name] ?? ['1'])
          : p.startsWith('/api/alarms')
            ? [String(alarm)]
            : p.startsWith('/api/scans')
              ? ['00000000-0000-4000-8000-000000000000']
              : ['1'];
      urls = urls.flatMap((u) => values.map((v) => u.replace(`{${prm.name}}`, encodeURIComponent(v))));
    }
    const q = queries[p];
    out.set(p, q ? urls.map((u) => `${u}?${q}`) : urls);
  }
  return out;
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-routes-'));
  const t0 = performance.now();
  const sys = await startSystem({ dataDir: dir, httpPort: 0, adminPassword: PASSWORD, logger: pino({ level: 'silent' }), demoCustomers: 98 });
  const startS = Math.round((performance.now() - t0) / 1000);
  try {
    const login = await fetch(`${sys.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const get = async (p: string): Promise<Json> => (await (await fetch(`${sys.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Json;
    const post = async (p: string, body: unknown): Promise<number> =>
      (
        await fetch(`${sys.url}${p}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).status;
    const auditEntries = await prefill(sys, post);
    await new Promise((r) => setTimeout(r, 15_000)); // first full reads of 100 meters
    const routes = await requests(sys, get);
    const rows: Array<{ route: string; w: Window }> = [];
    // The floor: the same windows with no request at all (the stall's: a client process that asks nothing).
    const floor = await measure(sys, async () => (await new Promise((r) => setTimeout(r, ROUTE_S * 1000)), { done: {}, failed: {}, bytes: 0 }));
    const floorAlone: number[] = [];
    for (let i = 0; i < STALL_RUNS; i++) floorAlone.push((await measure(sys, () => clients(sys.url, token, 60, 1, ['/api/me'], 0))).loopMax);
    floor.stall = pct(floorAlone, 50);
    rows.push({ route: '(no requests)', w: floor });
    for (const [route, urls] of routes) {
      const w = await measure(sys, () => clients(sys.url, token, ROUTE_S, 4, urls));
      const alone: number[] = [];
      for (let i = 0; i < STALL_RUNS; i++) alone.push((await measure(sys, () => clients(sys.url, token, 60, 1, urls, urls.length))).loopMax);
      w.stall = pct(alone, 50);
      rows.push({ route, w });
      process.stderr.write(`${route}: stall ${w.stall} ms, loop p99 ${w.loopP99} ms, max ${w.loopMax} ms\n`);
    }
    // By the stall of one request: one request holding the loop for a second is one late timer, which p99 hides.
    rows.sort((a, b) => (b.w.stall ?? 0) - (a.w.stall ?? 0) || b.w.loopMax - a.w.loopMax);
    console.log(
      `\nPer GET route, 4 clients for ${ROUTE_S} s each (system started in ${startS} s; ${auditEntries} audit entries, 100 meters in the inventory):`,
    );
    console.table(
      rows.map(({ route, w }) => ({
        route,
        'stall per request (ms, median of 3)': w.stall ?? NaN,
        'loop delay max / p99 (ms)': `${w.loopMax} / ${w.loopP99}`,
        'cycle jitter max / p99 (ms)': `${w.jitterMax} / ${w.jitterP99}`,
        requests: Object.values(w.load.done).reduce((a, b) => a + b, 0),
        failed: Object.keys(w.load.failed).length ? JSON.stringify(w.load.failed).slice(0, 60) : '',
        'load avg': w.load1.toFixed(2),
      })),
    );
    // The worst routes (not history alone) under 50 clients, against an idle window.
    const ranked = rows.filter((r) => r !== rows.find((x) => x.route === '(no requests)'));
    // BENCH_ROUTE_LOAD (routes, comma-separated) keeps the same set across runs to compare before and after.
    const chosen = process.env.BENCH_ROUTE_LOAD?.split(',') ?? ranked.slice(0, 6).map((r) => r.route);
    const worst = chosen.flatMap((r) => routes.get(r) ?? []);
    const idle = await measure(sys, async () => {
      await new Promise((r) => setTimeout(r, LOAD_S * 1000));
      return { done: {}, failed: {}, bytes: 0 };
    });
    const busy = await measure(sys, () => clients(sys.url, token, LOAD_S, 50, worst));
    const served = Object.values(busy.load.done).reduce((a, b) => a + b, 0);
    return {
      'worst routes under load': chosen.join(' '),
      'cycles idle / load': `${idle.cycles} / ${busy.cycles}`,
      'cycle start jitter p99 idle / load (ms, goal < 50)': `${idle.jitterP99} / ${busy.jitterP99}`,
      'cycle start jitter max idle / load (ms)': `${idle.jitterMax} / ${busy.jitterMax}`,
      'event loop delay p99 idle / load (ms, goal < 50)': `${idle.loopP99} / ${busy.loopP99}`,
      'event loop delay max idle / load (ms)': `${idle.loopMax} / ${busy.loopMax}`,
      'load average (1 min) after idle / load': `${idle.load1.toFixed(2)} / ${busy.load1.toFixed(2)}`,
      'HTTP requests served under load (per s)': `${served} (${Math.round(served / LOAD_S)})`,
      'HTTP failures under load': JSON.stringify(busy.load.failed).slice(0, 200),
    };
  } finally {
    await sys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run());
}
