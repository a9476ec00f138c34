/** `npm run bench`: runs every benchmark and prints its figures (nothing is asserted). */
import { run as billing } from './billing.js';
import { run as busEfficiency } from './bus-efficiency.js';
import { run as diskWrites } from './disk-writes.js';
import { run as evChargers } from './ev-chargers.js';
import { run as cliStartup } from './cli-startup.js';
import { run as controlSteps } from './control-steps.js';
import { run as cycleJitter } from './cycle-jitter.js';
import { run as csipPolling } from './csip-polling.js';
import { run as history } from './history.js';
import { run as ingest } from './ingest.js';
import { run as memory } from './memory.js';
import { run as realtimeLoad } from './realtime-load.js';
import { run as routeBlocking } from './route-blocking.js';
import { run as paymentsInbox } from './payments-inbox.js';
import { run as uplink } from './uplink.js';
import { run as utilityEvent } from './utility-event.js';
import { run as webColdLoad } from './web-cold-load.js';

/** A benchmark's figures; the ones that do no I/O of their own run synchronously. */
type Figures = Record<string, number | string> | readonly Record<string, number | string>[];

const benches: Array<[string, () => Figures | Promise<Figures>]> = [
  ['Bus efficiency: 90 DDSU666 + 1 DTSU666, one 9600 8N2 bus, wire time emulated', () => busEfficiency()],
  ['Ingest: channel values stored per second into SQLite', () => ingest()],
  ['History: a year of 15-minute intervals for one meter', () => history()],
  ['Billing: rate and bill 10,000 customers for a month; one day of prepaid charging', () => billing()],
  ['Payments inbox: callback and payment-start time against inbox size (goal: ratio near 1)', () => paymentsInbox()],
  [
    'Uplink: backlog drain rate through Mosquitto on 127.0.0.1:1883, live-data latency while draining, bytes per reading (set BENCH_UPLINK_BACKLOG, default 20000)',
    () => uplink(),
  ],
  ['CLI start-up: mgos --help and mgos read against the simulator, a fresh process each run (set BENCH_CLI_RUNS, default 11)', () => cliStartup()],
  ['Web cold load: the overview on an emulated phone (slow 3G, CPU 4x slower) in Chromium, empty cache (set BENCH_WEB_RUNS, default 3)', () => webColdLoad()],
  ['Memory: 100 simulated meters, whole system (set BENCH_MEMORY_MINUTES, default 10)', () => memory()],
  ['Disk writes: 100 simulated meters, whole system, write_bytes per reading and per day (set BENCH_DISK_MINUTES, default 10)', () => diskWrites()],
  [
    'Control steps: settle, worst export and energy exported per phase after PV and load steps through the edge cycle, per-phase vs OpenEMS-style symmetric (set BENCH_STEP_HOLD_MS, default 10000)',
    () => controlSteps(),
  ],
  [
    'utility-event: time from the start of a utility event to its export limit met at the connection point, energy exported above it; 5 kW PV, 5 kW -> 1.5 kW -> 0 W and per phase, against an open-dynamic-export-style limiter (goal: 2 s; set BENCH_UTILITY_HOLD_S, default 20)',
    () => utilityEvent(),
  ],
  [
    'Real time under load: poll cycle p50/p99 of 25 meters on one 9600-baud bus, idle and under 50 history/CSV clients and 5 SSE streams (goal: ratio <= 1.10, no reading lost; set BENCH_LOAD_SECONDS, default 30)',
    () => realtimeLoad(),
  ],
  [
    'Cycle jitter: edge cycle start jitter and duration with 100 meters polled, idle and under 50 history clients; CPU share (set BENCH_JITTER_SECONDS, default 60)',
    () => cycleJitter(),
  ],
  [
    'Route blocking: main event loop delay and edge cycle start jitter per GET route (demo, 100 meters, seeded billing), worst first; then idle vs 50 clients on the worst routes (set BENCH_ROUTE_SECONDS, default 4; BENCH_ROUTE_LOAD_SECONDS, default 30)',
    () => routeBlocking(),
  ],
  [
    'EV chargers: edge cycle start jitter and duration without and with 100 simulated OCPP chargers charging and steered (set BENCH_EV_SECONDS, default 30; BENCH_EV_METER_MS, default 2000; BENCH_EV_BUDGET_MS, default 100)',
    () => evChargers(),
  ],
  [
    "csip-polling: IEEE 2030.5 requests and bytes per simulated hour for a site with 3 DERs against the test server (HTTPS, mTLS), the server's pollRates vs a naive poller reading every resource every 60 s",
    () => csipPolling(),
  ],
];

const only = process.argv[2];
for (const [title, run] of benches) {
  if (only && !title.toLowerCase().startsWith(only.toLowerCase())) continue;
  console.log(`\n## ${title}`);
  console.table(await run());
}
