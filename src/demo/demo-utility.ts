import { readFileSync } from 'node:fs';
import { csipConfigSchema, type CsipConfig } from '../csip/csip-config.js';
import { deviceIdentity } from '../csip/lfdi.js';
import { CsipTestServer } from '../csip/test-server.js';
import type { Clock } from '../util/clock.js';
import { fromRoot } from '../util/paths.js';

/**
 * The demo's utility: the project's own 2030.5 test server (src/csip/test-server.ts) in this process
 * on 127.0.0.1, holding one DER program with a DefaultDERControl (export 5 kW, import 30 kW) and a
 * recurring export-limit event: 1.5 kW for 10 minutes every 30 minutes, the first one minute after the
 * start, so the Utility page shows an event at work from the first minute. The site's `csip:` client
 * talks to it over mTLS with full verification, with the fixed demo certificates in
 * src/demo/csip-pki/ (why fixed: its README).
 */
export const DEMO_PROGRAM_MRID = 'DE30000000000000000000000000D001';
export const DEMO_EVENT = { limitW: 1500, durationS: 600, everyS: 1800, firstAfterS: 60 } as const;
const DEFAULTS = { opModExpLimW: 5000, opModImpLimW: 30_000 } as const;
/** Lists and the program are read every minute; an event is listed 25 minutes before it starts. */
const POLL_RATE_S = 60;
const LISTED_AHEAD_S = 1500;

export interface DemoUtility {
  readonly server: CsipTestServer;
  /** The site file's `csip:` section for the demo. */
  readonly csip: CsipConfig;
  close(): Promise<void>;
}

const pki = (name: string): string => fromRoot('src', 'demo', 'csip-pki', name);
const NS = 'xmlns="urn:ieee:std:2030.5:ns" xmlns:csipaus="https://csipaus.org/ns"';

/** ActivePower as CSIP-AUS writes it: value × 10^multiplier W, the value within Int16. */
const activePower = (name: string, w: number): string =>
  `<csipaus:${name}><multiplier>${w % 100 === 0 && w !== 0 ? 2 : 0}</multiplier><value>${w % 100 === 0 && w !== 0 ? w / 100 : w}</value></csipaus:${name}>`;

/** The event of slot n (0 = the first): its mRID (32 hex digits), start and XML. */
function event(n: number, firstStartS: number): string {
  const start = firstStartS + n * DEMO_EVENT.everyS;
  const mRID = `DE30E${start.toString(16).toUpperCase().padStart(27, '0')}`;
  const created = start - LISTED_AHEAD_S;
  return (
    `<DERControl href="/derp/1/derc/${mRID}" replyTo="/rsps/1/rsp" responseRequired="03" subscribable="0"><mRID>${mRID}</mRID>` +
    `<description>Demo export limit ${DEMO_EVENT.limitW / 1000} kW</description><creationTime>${created}</creationTime>` +
    `<EventStatus><currentStatus>0</currentStatus><dateTime>${created}</dateTime><potentiallySuperseded>false</potentiallySuperseded></EventStatus>` +
    `<interval><duration>${DEMO_EVENT.durationS}</duration><start>${start}</start></interval>` +
    `<DERControlBase>${activePower('opModExpLimW', DEMO_EVENT.limitW)}</DERControlBase></DERControl>`
  );
}

export async function startDemoUtility(o: { clock: Clock }): Promise<DemoUtility> {
  const deviceCert = readFileSync(pki('device.pem'), 'utf8');
  const me = deviceIdentity(deviceCert);
  const server = new CsipTestServer({
    cert: readFileSync(pki('server.pem'), 'utf8'),
    key: readFileSync(pki('server.key'), 'utf8'),
    ca: readFileSync(pki('ca.pem'), 'utf8'),
    clock: o.clock,
    timePollRate: 900,
  });
  server.set(
    '/dcap',
    `<DeviceCapability ${NS} href="/dcap" pollRate="300"><TimeLink href="/tm"/><EndDeviceListLink href="/edev" all="1"/><MirrorUsagePointListLink href="/mup" all="0"/></DeviceCapability>`,
  );
  server.setList(
    '/edev',
    'EndDeviceList',
    [
      `<EndDevice href="/edev/1" subscribable="0"><DERListLink href="/edev/1/der" all="0"/><lFDI>${me.lfdi}</lFDI><sFDI>${me.sfdi}</sFDI>` +
        `<changedTime>${Math.floor(o.clock() / 1000)}</changedTime><enabled>true</enabled><FunctionSetAssignmentsListLink href="/edev/1/fsa" all="1"/>` +
        `<RegistrationLink href="/edev/1/rg"/></EndDevice>`,
    ],
    POLL_RATE_S,
  );
  server.set(
    '/edev/1/rg',
    `<Registration ${NS} href="/edev/1/rg" pollRate="3600"><dateTimeRegistered>${Math.floor(o.clock() / 1000)}</dateTimeRegistered><pIN>111115</pIN></Registration>`,
  );
  server.setList('/edev/1/der', 'DERList', [], POLL_RATE_S);
  server.setList('/mup', 'MirrorUsagePointList', [], POLL_RATE_S);
  server.setList(
    '/edev/1/fsa',
    'FunctionSetAssignmentsList',
    [
      `<FunctionSetAssignments href="/edev/1/fsa/1"><mRID>DE30F000000000000000000000000001</mRID><description>Demo utility</description>` +
        `<DERProgramListLink href="/edev/1/fsa/1/derp" all="1"/><TimeLink href="/tm"/></FunctionSetAssignments>`,
    ],
    POLL_RATE_S,
  );
  server.setList(
    '/edev/1/fsa/1/derp',
    'DERProgramList',
    [
      `<DERProgram href="/derp/1"><mRID>${DEMO_PROGRAM_MRID}</mRID><description>Demo dynamic export</description>` +
        `<DefaultDERControlLink href="/derp/1/dderc"/><DERControlListLink href="/derp/1/derc" all="3"/><primacy>1</primacy></DERProgram>`,
    ],
    POLL_RATE_S,
  );
  server.set(
    '/derp/1/dderc',
    `<DefaultDERControl ${NS} href="/derp/1/dderc"><mRID>DE30D000000000000000000000000001</mRID><description>Demo default</description>` +
      `<DERControlBase>${activePower('opModExpLimW', DEFAULTS.opModExpLimW)}${activePower('opModImpLimW', DEFAULTS.opModImpLimW)}</DERControlBase>` +
      `<setGradW>27</setGradW></DefaultDERControl>`,
  );
  // The list holds the event in force or last ended and the next two; renewed every minute.
  const firstStartS = Math.floor(o.clock() / 1000) + DEMO_EVENT.firstAfterS;
  const renew = (): void => {
    const nowS = Math.floor(o.clock() / 1000);
    const current = Math.max(0, Math.floor((nowS - firstStartS) / DEMO_EVENT.everyS));
    server.setList(
      '/derp/1/derc',
      'DERControlList',
      [0, 1, 2].map((i) => event(current + i, firstStartS)),
      POLL_RATE_S,
    );
  };
  renew();
  const timer = setInterval(renew, 60_000);
  timer.unref();
  const url = await server.start();
  const csip = csipConfigSchema.parse({
    server: url,
    cert: pki('device.pem'),
    key: pki('device.key'),
    ca: pki('ca.pem'),
    pin: 111115,
    fallback: { exportLimitW: 5000 },
  });
  return {
    server,
    csip,
    close: async () => {
      clearInterval(timer);
      await server.close();
    },
  };
}
