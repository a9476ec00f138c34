/**
 * 2030.5 traffic of a site with 3 DERs (issue 11 benchmarks, second bullet): resources polled per hour
 * and bytes sent and received over HTTPS with mTLS against the project's test server, for a simulated
 * hour on a manual clock (the clock jumps to the client's next due read or post, so the hour takes
 * seconds). The site's reporting is the real one (site-reporting.ts over a process image holding a
 * grid meter per phase, a battery, PV and a hybrid inverter): registration, its DER capability, settings
 * and status, telemetry per phase at the server's postRate.
 *
 * The server's rates are CSIP-AUS-like: DERControlList every 60 s, the rest of the tree every 300 s
 * (DeviceCapability and Time every 900 s), readings posted every 300 s. Beside it, a naive fixed-rate
 * poller: the same client reading every resource every 60 s whatever its pollRate (so the DERList, and
 * with it the DERSettings and DERStatus PUTs, every 60 s too), readings at the same postRate. Bytes are
 * the server's TCP socket counts (TLS records, headers, bodies), the handshake included.
 */
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProcessImage } from '../src/channels/process-image.js';
import { CsipClient } from '../src/csip/client.js';
import { csipConfigSchema } from '../src/csip/csip-config.js';
import { siteReporting } from '../src/csip/site-reporting.js';
import { controlConfigSchema } from '../src/edge/control-config.js';
import { manualClock } from '../src/util/clock.js';
import { CSIP_RATES, startReportingUtility } from '../test/helpers/reporting-utility.js';

const START = Date.UTC(2026, 2, 10, 9, 0, 0);
const HOUR_MS = 3600_000;

const CONTROL = controlConfigSchema.parse({
  assets: [
    { type: 'grid-meter', component: 'grid', perPhase: true },
    { type: 'battery', component: 'ess0', control: 'setpoint', maxChargeW: 6000, maxDischargeW: 6000 },
    { type: 'pv', component: 'pv0', ratedW: 9000 },
    { type: 'pv', component: 'pv1', ratedW: 5000 },
  ],
  controllers: [{ kind: 'utility-limits', id: 'utility' }],
});

/** The site's channels as a driver would write them (1 s period). */
function fill(image: ProcessImage, now: number): void {
  image.update(
    'grid',
    {
      ActivePower: -900,
      ActivePower_L1: -300,
      ActivePower_L2: -350,
      ActivePower_L3: -250,
      ReactivePower: 150,
      Voltage_L1: 231,
      Voltage_L2: 230,
      Voltage_L3: 232,
    },
    now,
    1000,
  );
  image.update('ess0', { ActivePower: -2000, Soc: 55, Capacity: 20_000, FaultCode: 0 }, now, 1000);
  image.update('pv0', { ActivePower: 6000 }, now, 1000);
  image.update('pv1', { ActivePower: 3000 }, now, 1000);
}

async function oneHour(naive: boolean): Promise<Record<string, number>> {
  const clock = manualClock(START);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-bench-csip-'));
  const utility = await startReportingUtility({ clock, ders: 3, preRegistered: true });
  const image = new ProcessImage(clock);
  const config = csipConfigSchema.parse({ ...utility.csip, reporting: { queue: { durable: false } } });
  const sunspec = { components: (): string[] => [], models: () => new Map(), device: (): undefined => undefined };
  const reporting = siteReporting(config, image, clock, { control: CONTROL, sunspec, storagePath: path.join(dir, 'mgos.db') });
  const client = new CsipClient({
    baseUrl: utility.url,
    cert: utility.pki.deviceCert,
    key: utility.pki.deviceKey,
    ca: utility.pki.caCert,
    clock,
    ...(naive ? { pollRateS: 60 } : {}),
    ...reporting.options,
  });
  try {
    while (clock() < START + HOUR_MS) {
      fill(image, clock());
      await client.tick();
      await client.postResponses();
      const next = Math.min(client.nextDueMs(), START + HOUR_MS);
      clock.set(Math.max(clock() + 1000, next));
    }
    const reqs = utility.server.requests;
    const traffic = utility.server.traffic();
    return {
      gets: reqs.filter((r) => r.method === 'GET').length,
      puts: reqs.filter((r) => r.method === 'PUT').length,
      posts: reqs.filter((r) => r.method === 'POST').length,
      readings: utility.readings.length,
      bytesReceived: traffic.received,
      bytesSent: traffic.sent,
    };
  } finally {
    await client.stop();
    reporting.close();
    await utility.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const ours = await oneHour(false);
  const naive = await oneHour(true);
  const ratio = (k: string): string => ((ours[k] ?? 0) / (naive[k] ?? 1)).toFixed(2);
  const total = (x: Record<string, number>): number => (x['gets'] ?? 0) + (x['puts'] ?? 0) + (x['posts'] ?? 0);
  return {
    'server rates (s)': `derc ${CSIP_RATES.derc}, tree ${CSIP_RATES.edev}, dcap/time ${CSIP_RATES.dcap}, post ${CSIP_RATES.post}`,
    'resources polled per hour (GET), ours': ours['gets'] ?? 0,
    'resources polled per hour (GET), naive 60 s': naive['gets'] ?? 0,
    'GET ratio ours/naive': ratio('gets'),
    'requests per hour (GET+PUT+POST), ours': total(ours),
    'requests per hour, naive': total(naive),
    'PUTs (DER reports), ours / naive': `${ours['puts'] ?? 0} / ${naive['puts'] ?? 0}`,
    'POSTs (readings), ours / naive': `${ours['posts'] ?? 0} / ${naive['posts'] ?? 0}`,
    'readings received by the server, ours / naive': `${ours['readings'] ?? 0} / ${naive['readings'] ?? 0}`,
    'bytes sent by the site, ours': ours['bytesReceived'] ?? 0,
    'bytes sent by the site, naive': naive['bytesReceived'] ?? 0,
    'bytes sent ratio ours/naive': ratio('bytesReceived'),
    'bytes received by the site, ours': ours['bytesSent'] ?? 0,
    'bytes received by the site, naive': naive['bytesSent'] ?? 0,
    'bytes received ratio ours/naive': ratio('bytesSent'),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(await run());
