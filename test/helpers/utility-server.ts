import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deviceIdentity } from '../../src/csip/lfdi.js';
import { CsipTestServer } from '../../src/csip/test-server.js';
import type { Clock } from '../../src/util/clock.js';
import { controlItem, dcapXml, defaultXml, endDeviceItem, fsaItem, programItem, registrationXml, type ControlSpec } from './csip-fixtures.js';
import { makePki } from './csip-pki.js';

/**
 * A local 2030.5 server over HTTPS with mTLS (certificates made by openssl in csip-pki.ts) holding one
 * program with a DefaultDERControl and the given events, and the site file's `csip:` section that
 * points the client at it (PEM files in a temporary directory).
 */
export interface UtilityServer {
  readonly server: CsipTestServer;
  readonly csip: Record<string, unknown>;
  setEvents(events: readonly ControlSpec[]): void;
  close(): Promise<void>;
}

export async function startUtilityServer(o: {
  clock: Clock;
  defaults: Readonly<Record<string, number | boolean>>;
  events: readonly ControlSpec[];
  fallback?: Record<string, unknown>;
  /** The DefaultDERControl's setGradW (hundredths of a percent per second); null: none; default 27. */
  setGradW?: number | null;
}): Promise<UtilityServer> {
  const pki = makePki();
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-csip-'));
  const file = (name: string, pem: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, pem);
    return p;
  };
  const server = new CsipTestServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, clock: o.clock, timePollRate: 900 });
  const me = deviceIdentity(pki.deviceCert);
  server.set('/dcap', dcapXml(1));
  server.setList('/edev', 'EndDeviceList', [endDeviceItem(me.lfdi, me.sfdi, 1)], 1);
  server.set('/edev/1/rg', registrationXml(111115, 1));
  server.setList('/edev/1/fsa', 'FunctionSetAssignmentsList', [fsaItem(1)], 1);
  server.setList('/edev/1/fsa/1/derp', 'DERProgramList', [programItem('A1', 1)], 1);
  server.set('/derp/A1/dderc', defaultXml('A1', o.defaults, o.setGradW === undefined ? 27 : o.setGradW));
  const setEvents = (events: readonly ControlSpec[]): void => server.setList('/derp/A1/derc', 'DERControlList', events.map(controlItem), 1);
  setEvents(o.events);
  const url = await server.start();
  return {
    server,
    setEvents,
    csip: {
      server: url,
      cert: file('device.pem', pki.deviceCert),
      key: file('device.key', pki.deviceKey),
      ca: file('ca.pem', pki.caCert),
      fallback: o.fallback ?? {},
      poll: { tickMs: 250, retryMs: 1000, rateS: 1 },
      evaluateEveryMs: 250,
    },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The site file of a site whose only DER is a SunSpec PV inverter (with its grid meter) on Modbus TCP,
 * following the given utility: the closed-loop utility tests differ only in their controllers.
 */
export function sunSpecPvSiteConfig(o: {
  readonly id: string;
  readonly dir: string;
  readonly inverterPort: number;
  readonly ratedW: number;
  readonly csip: Record<string, unknown>;
  readonly controllers: readonly Record<string, unknown>[];
}): Record<string, unknown> {
  return {
    site: { id: o.id, name: `Utility test ${o.id}`, timezone: 'Africa/Kampala' },
    poll: { intervalMs: 10_000 },
    storage: { path: path.join(o.dir, 'mgos.db'), flushIntervalMs: 0 },
    http: { host: '127.0.0.1', port: 0 },
    buses: [{ id: 'pv', transport: 'tcp', host: '127.0.0.1', port: o.inverterPort, timeoutMs: 1000, retries: 0 }],
    control: {
      devices: [{ type: 'sunspec', component: 'pv0', bus: 'pv', address: 1, meter: 'grid' }],
      assets: [
        { type: 'grid-meter', component: 'grid', perPhase: false },
        { type: 'pv', component: 'pv0', ratedW: o.ratedW },
      ],
      controllers: o.controllers,
    },
    csip: o.csip,
  };
}
