import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { flattenReport, parseMeterReadings, parseMirrorUsagePoint, type Flat, type MirrorReading } from '../../src/csip/conformance/reports.js';
import { parseResource } from '../../src/csip/resources.js';
import { CsipTestServer, type Answer, type RecordedRequest } from '../../src/csip/test-server.js';
import type { Clock } from '../../src/util/clock.js';
import { dcapXml, defaultXml, fsaItem, NS, programItem, registrationXml } from './csip-fixtures.js';
import { makePki, type Pki } from './csip-pki.js';

/**
 * A 2030.5 utility server that takes the site's reports (over HTTPS with mTLS, CsipTestServer's route
 * hook): in-band registration (POST /edev), the ConnectionPoint, `ders` DER resources whose
 * DERCapability, DERSettings and DERStatus PUTs are kept, and a MirrorUsagePointList where the client
 * creates its mirrors (POST /mup) and posts readings (POST /mup/{n}), each kept with its mirror, type,
 * phase and the time it says it was taken. Poll and post rates are the server's (CSIP-AUS-like
 * defaults unless given).
 */
export interface ReportingUtility {
  readonly server: CsipTestServer;
  readonly pki: Pki;
  readonly url: string;
  /** The site file's `csip:` section for this server (PEM files in a temporary directory). */
  readonly csip: Record<string, unknown>;
  readonly registered: { lfdi: string; sfdi: number; deviceCategory: number } | null;
  readonly connectionPointId: string | undefined;
  /** Latest PUT per DER (1-based) and kind. */
  readonly ders: Map<number, { capability?: Flat; settings?: Flat; status?: Flat }>;
  readonly mirrors: { readonly mrid: string; readonly roleFlags: number; readonly description: string }[];
  /** Every reading received (creation POSTs included), in arrival order. */
  readonly readings: (MirrorReading & { readonly mupId: number; readonly receivedMs: number })[];
  readonly errors: string[];
  close(): Promise<void>;
}

export interface ReportingRates {
  readonly dcap: number;
  readonly edev: number;
  readonly fsa: number;
  readonly derp: number;
  readonly derc: number;
  readonly der: number;
  readonly mup: number;
  readonly post: number;
  readonly time: number;
}

/** CSIP-AUS-like rates (s): controls every minute, the structure every 5 min, readings every 5 min. */
export const CSIP_RATES: ReportingRates = { dcap: 900, edev: 300, fsa: 300, derp: 300, derc: 60, der: 300, mup: 300, post: 300, time: 900 };

export async function startReportingUtility(o: {
  clock: Clock;
  ders: number;
  rates?: Partial<ReportingRates>;
  defaults?: Readonly<Record<string, number | boolean>>;
  /** Registered out of band already (else the client must register in band). */
  preRegistered?: boolean;
}): Promise<ReportingUtility> {
  const rates = { ...CSIP_RATES, ...o.rates };
  const pki = makePki();
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-csip-rep-'));
  const file = (name: string, pem: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, pem);
    return p;
  };
  const state = {
    registered: null as ReportingUtility['registered'],
    connectionPointId: undefined as string | undefined,
    ders: new Map<number, { capability?: Flat; settings?: Flat; status?: Flat }>(),
    mirrors: [] as { mrid: string; roleFlags: number; description: string }[],
    readings: [] as (MirrorReading & { mupId: number; receivedMs: number })[],
    errors: [] as string[],
  };
  const endDevice = (lfdi: string, sfdi: number): string =>
    `<EndDevice href="/edev/1" subscribable="0"><DERListLink href="/edev/1/der" all="${o.ders}"/><lFDI>${lfdi}</lFDI><sFDI>${sfdi}</sFDI><changedTime>1782864000</changedTime><enabled>true</enabled><FunctionSetAssignmentsListLink href="/edev/1/fsa" all="1"/><RegistrationLink href="/edev/1/rg"/><csipaus:ConnectionPointLink href="/edev/1/cp"/></EndDevice>`;
  const derItem = (n: number): string =>
    `<DER href="/edev/1/der/${n}"><DERCapabilityLink href="/edev/1/der/${n}/dercap"/><DERSettingsLink href="/edev/1/der/${n}/derg"/><DERStatusLink href="/edev/1/der/${n}/ders"/></DER>`;
  const list = (name: string, href: string, items: readonly string[], q: Readonly<Record<string, string>>, pollRate: number): string => {
    const s = Number(q['s'] ?? '0');
    const l = Number(q['l'] ?? '1');
    const page = items.slice(s, s + l);
    return `<${name} ${NS} href="${href}" all="${items.length}" results="${page.length}" pollRate="${pollRate}">${page.join('')}</${name}>`;
  };
  const KINDS: Record<string, 'capability' | 'settings' | 'status'> = { dercap: 'capability', derg: 'settings', ders: 'status' };
  const ROOTS = { capability: 'DERCapability', settings: 'DERSettings', status: 'DERStatus' } as const;

  const route = (req: RecordedRequest): Answer | undefined => {
    const p = req.path;
    try {
      if (req.method === 'GET') {
        if (p === '/dcap')
          return {
            status: 200,
            body: dcapXml(rates.dcap).replace(
              '<MirrorUsagePointListLink href="/mup" all="0"/>',
              `<MirrorUsagePointListLink href="/mup" all="${state.mirrors.length}"/>`,
            ),
          };
        if (p === '/edev') {
          const r = state.registered;
          return { status: 200, body: list('EndDeviceList', '/edev', r ? [endDevice(r.lfdi, r.sfdi)] : [], req.query, rates.edev) };
        }
        if (p === '/edev/1/der')
          return {
            status: 200,
            body: list(
              'DERList',
              p,
              Array.from({ length: o.ders }, (_, i) => derItem(i + 1)),
              req.query,
              rates.der,
            ),
          };
        if (p === '/edev/1/fsa') return { status: 200, body: list('FunctionSetAssignmentsList', p, [fsaItem(1)], req.query, rates.fsa) };
        if (p === '/edev/1/fsa/1/derp') return { status: 200, body: list('DERProgramList', p, [programItem('A1', 1)], req.query, rates.derp) };
        if (p === '/derp/A1/derc') return { status: 200, body: list('DERControlList', p, [], req.query, rates.derc) };
        if (p === '/derp/A1/dderc') return { status: 200, body: defaultXml('A1', o.defaults ?? {}) };
        if (p === '/edev/1/rg') return { status: 200, body: registrationXml(111115, rates.edev) };
        if (p === '/mup')
          return {
            status: 200,
            body: list(
              'MirrorUsagePointList',
              p,
              state.mirrors.map(
                (m, i) =>
                  `<MirrorUsagePoint href="/mup/${i + 1}" postRate="${rates.post}"><mRID>${m.mrid}</mRID><roleFlags>${m.roleFlags.toString(16).padStart(2, '0')}</roleFlags><serviceCategoryKind>0</serviceCategoryKind><status>1</status></MirrorUsagePoint>`,
              ),
              req.query,
              rates.mup,
            ),
          };
        return undefined; // /tm and anything else: the test server's own
      }
      if (req.method === 'PUT') {
        if (p === '/edev/1/cp') {
          const m = /<connectionPointId>([^<]*)<\/connectionPointId>/.exec(req.body);
          state.connectionPointId = m?.[1];
          return { status: 204 };
        }
        const m = /^\/edev\/1\/der\/(\d+)\/(dercap|derg|ders)$/.exec(p);
        if (m) {
          const n = Number(m[1]);
          const kind = KINDS[m[2] ?? ''] ?? 'status';
          const row = state.ders.get(n) ?? {};
          row[kind] = flattenReport(ROOTS[kind], req.body);
          state.ders.set(n, row);
          return { status: 204 };
        }
        return { status: 405 };
      }
      if (req.method === 'POST') {
        if (p === '/edev') {
          const e = parseResource('EndDevice', req.body);
          state.registered = { lfdi: e.lFDI ?? '', sfdi: e.sFDI, deviceCategory: parseInt(e.deviceCategory ?? '0', 16) };
          return { status: 201, location: '/edev/1' };
        }
        if (p === '/mup') {
          const mup = parseMirrorUsagePoint(req.body);
          let id = state.mirrors.findIndex((x) => x.mrid === mup.mrid) + 1;
          if (id === 0) {
            const description = /<description>([^<]*)<\/description>/.exec(req.body)?.[1] ?? '';
            state.mirrors.push({ mrid: mup.mrid, roleFlags: mup.roleFlags, description });
            id = state.mirrors.length;
          }
          for (const r of mup.readings) state.readings.push({ ...r, mupId: id, receivedMs: o.clock() });
          return { status: 201, location: `/mup/${id}` };
        }
        const m = /^\/mup\/(\d+)$/.exec(p);
        if (m) {
          const id = Number(m[1]);
          if (!state.mirrors[id - 1]) return { status: 404 };
          for (const r of parseMeterReadings(req.body)) state.readings.push({ ...r, mupId: id, receivedMs: o.clock() });
          return { status: 201, location: p };
        }
        return { status: 405 };
      }
    } catch (e) {
      state.errors.push(`${req.method} ${p}: ${e instanceof Error ? e.message : String(e)}`);
      return { status: 400 };
    }
    return undefined;
  };
  const server = new CsipTestServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, clock: o.clock, timePollRate: rates.time, route });
  const url = await server.start();
  if (o.preRegistered) {
    const { deviceIdentity } = await import('../../src/csip/lfdi.js');
    const me = deviceIdentity(pki.deviceCert);
    state.registered = { lfdi: me.lfdi, sfdi: me.sfdi, deviceCategory: 0 };
  }
  return {
    server,
    pki,
    url,
    csip: {
      server: url,
      cert: file('device.pem', pki.deviceCert),
      key: file('device.key', pki.deviceKey),
      ca: file('ca.pem', pki.caCert),
    },
    get registered() {
      return state.registered;
    },
    get connectionPointId() {
      return state.connectionPointId;
    },
    ders: state.ders,
    mirrors: state.mirrors,
    readings: state.readings,
    errors: state.errors,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
