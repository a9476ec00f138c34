import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { CsipClient, MAX_RESPONSE_BYTES, REQUEST_LOG_SIZE } from '../src/csip/client.js';
import { deviceIdentity } from '../src/csip/lfdi.js';
import { CsipTestServer } from '../src/csip/test-server.js';
import { clockStartingAt, manualClock } from '../src/util/clock.js';
import { controlItem, dcapXml, defaultXml, endDeviceItem, fsaItem, programItem, registrationXml, type ControlSpec } from './helpers/csip-fixtures.js';
import { makePki, type Pki } from './helpers/csip-pki.js';

const T0 = 1782864000; // 2026-07-01T00:00:00Z, seconds
const SERVER_AHEAD_S = 90;

let pki: Pki;
let server: CsipTestServer;
let url: string;
const clientClock = manualClock(T0 * 1000);
const serverClock = (): number => clientClock() + SERVER_AHEAD_S * 1000;

const events: ControlSpec[] = [
  { mRID: 'A1', start: T0 - 3600, duration: 600, base: { opModExpLimW: 1000 } },
  { mRID: 'A2', start: T0 + SERVER_AHEAD_S - 10, duration: 600, base: { opModExpLimW: 1500, opModImpLimW: 4000 } },
  { mRID: 'A3', start: T0 + 3600, duration: 600, base: { opModExpLimW: 2000 } },
  { mRID: 'A4', start: T0 + 7200, duration: 600, base: { opModExpLimW: 2500 } },
  { mRID: 'A5', start: T0 + 9000, duration: 600, status: 2, base: { opModExpLimW: 3000 } },
];

before(async () => {
  pki = makePki();
  server = new CsipTestServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, clock: serverClock, timePollRate: 900 });
  const me = deviceIdentity(pki.deviceCert);
  server.set('/dcap', dcapXml(300));
  server.setList(
    '/edev',
    'EndDeviceList',
    [endDeviceItem('00'.repeat(20), 1000, 7), endDeviceItem('11'.repeat(20), 2000, 8), endDeviceItem(me.lfdi, me.sfdi, 1)],
    600,
  );
  server.set('/edev/1/rg', registrationXml(111115, 600));
  server.setList('/edev/1/fsa', 'FunctionSetAssignmentsList', [fsaItem(1)], 600);
  server.setList('/edev/1/fsa/1/derp', 'DERProgramList', [programItem('C1', 1), programItem('C2', 2)], 120);
  server.setList('/derp/C1/derc', 'DERControlList', events.map(controlItem), 60);
  server.setList('/derp/C2/derc', 'DERControlList', [], 60);
  server.set('/derp/C1/dderc', defaultXml('C1', { opModExpLimW: 5000, opModImpLimW: 7000 }));
  server.set('/derp/C2/dderc', defaultXml('C2', { opModLoadLimW: 9000 }));
  url = await server.start();
});

after(async () => {
  await server.close();
});

const client = (o: { ca?: string; pin?: number } = {}): CsipClient =>
  new CsipClient({
    baseUrl: url,
    cert: pki.deviceCert,
    key: pki.deviceKey,
    ca: o.ca ?? pki.caCert,
    clock: clientClock,
    pageSize: 2,
    ...(o.pin === undefined ? {} : { pin: o.pin }),
    fallback: { opModGenLimW: 8000 },
  });

test('discovery over mTLS: our EndDevice by LFDI, registration, FSA, programs, controls and defaults, every list paged; time offset from the server', async () => {
  const c = client({ pin: 111115 });
  try {
    clientClock.set(T0 * 1000);
    server.requests.length = 0;
    const read = await c.tick();
    assert.equal(c.lastError, null);
    assert.equal(c.reachable, true);
    assert.deepEqual(read, [
      '/dcap',
      '/tm',
      '/edev',
      '/edev/1/rg',
      '/edev/1/fsa',
      '/edev/1/fsa/1/derp',
      '/derp/C1/derc',
      '/derp/C1/dderc',
      '/derp/C2/derc',
      '/derp/C2/dderc',
    ]);
    assert.equal(c.endDevice?.href, '/edev/1');
    assert.equal(c.registration?.pIN, 111115);
    assert.deepEqual(
      server.gets('/edev').map((r) => `${r.query.s ?? ''}/${r.query.l ?? ''}`),
      ['0/2', '2/2'],
      'three EndDevices in pages of two',
    );
    assert.deepEqual(
      server.gets('/derp/C1/derc').map((r) => r.query.s),
      ['0', '2', '4'],
    );
    assert.deepEqual(
      c.controlLists.get('/derp/C1/derc')?.map((x) => x.mRID),
      ['A1', 'A2', 'A3', 'A4', 'A5'],
    );
    assert.ok(
      server.requests.every((r) => r.lfdi === c.identity.lfdi),
      'every request carried the device certificate',
    );
    assert.equal(c.timeOffsetMs, SERVER_AHEAD_S * 1000);
    assert.equal(c.now(), (T0 + SERVER_AHEAD_S) * 1000);

    const { limits } = c.limits();
    assert.deepEqual(
      limits.opModExpLimW,
      { value: 1500, source: { kind: 'event', eventMRID: 'A2', programMRID: '000000000000000000000000000000C1', primacy: 1 } },
      "A2 is active in server time (it starts 10 s before the server's now, 80 s after the client's)",
    );
    assert.equal(limits.opModImpLimW?.value, 4000);
    assert.equal(limits.opModLoadLimW?.source.kind, 'default');
    assert.deepEqual(limits.opModGenLimW, { value: 8000, source: { kind: 'fallback' } });
  } finally {
    await c.stop();
  }
});

test('each resource is polled at its own pollRate on the clock; a new event is picked up', async () => {
  const c = client();
  try {
    clientClock.set(T0 * 1000);
    await c.tick();
    assert.deepEqual(await c.tick(), [], 'nothing due at once');
    clientClock.advance(60_000);
    assert.deepEqual(await c.tick(), ['/derp/C1/derc', '/derp/C2/derc'], 'DERControl lists every 60 s');
    clientClock.advance(60_000);
    assert.deepEqual(
      (await c.tick()).sort(),
      ['/derp/C1/dderc', '/derp/C1/derc', '/derp/C2/dderc', '/derp/C2/derc', '/edev/1/fsa/1/derp'],
      'program list and defaults every 120 s',
    );
    clientClock.advance(180_000);
    assert.ok((await c.tick()).includes('/dcap'), 'DeviceCapability at 300 s');
    const rates = Object.fromEntries(c.polled().map((p) => [p.href, p.everyMs / 1000]));
    assert.deepEqual(rates, {
      '/dcap': 300,
      '/tm': 900,
      '/edev': 600,
      '/edev/1/rg': 600,
      '/edev/1/fsa': 600,
      '/edev/1/fsa/1/derp': 120,
      '/derp/C1/derc': 60,
      '/derp/C1/dderc': 120,
      '/derp/C2/derc': 60,
      '/derp/C2/dderc': 120,
    });

    server.setList('/derp/C2/derc', 'DERControlList', [controlItem({ mRID: 'B1', start: T0, duration: 3600, base: { opModLoadLimW: 3000 } })], 60);
    assert.equal(c.limits().limits.opModLoadLimW?.value, 9000);
    clientClock.advance(60_000);
    await c.tick();
    assert.deepEqual(c.limits().limits.opModLoadLimW?.source, { kind: 'event', eventMRID: 'B1', programMRID: '000000000000000000000000000000C2', primacy: 2 });
    server.setList('/derp/C2/derc', 'DERControlList', [], 60);
  } finally {
    await c.stop();
  }
});

test('Responses are posted to replyTo with our LFDI, each status once', async () => {
  const c = client();
  try {
    clientClock.set(T0 * 1000);
    server.requests.length = 0;
    await c.tick();
    const posted = await c.postResponses();
    const got = server.posts('/rsps/1/rsp').map((r) => {
      const status = /<status>(\d+)<\/status>/.exec(r.body)?.[1];
      const subject = /<subject>(\w+)<\/subject>/.exec(r.body)?.[1];
      assert.match(r.body, new RegExp(`<endDeviceLFDI>${c.identity.lfdi}</endDeviceLFDI>`));
      assert.match(r.body, new RegExp(`<createdDateTime>${T0 + SERVER_AHEAD_S}</createdDateTime>`), 'in server time');
      return `${subject ?? ''}:${status ?? ''}`;
    });
    assert.deepEqual(got, ['A1:1', 'A1:254', 'A2:1', 'A2:2', 'A3:1', 'A4:1', 'A5:1', 'A5:6']);
    assert.equal(posted.length, got.length);
    assert.deepEqual(await c.postResponses(), [], 'nothing twice');
    clientClock.advance(600_000);
    await c.tick();
    assert.deepEqual(
      (await c.postResponses()).map((r) => `${r.mRID}:${r.status}`),
      ['A2:3'],
    );
  } finally {
    await c.stop();
  }
});

test('the server going offline: the schedule goes on from what was read, then the default', async () => {
  const c = client();
  try {
    clientClock.set(T0 * 1000);
    await c.tick();
    server.offline = true;
    clientClock.advance(60_000);
    await c.tick();
    assert.equal(c.reachable, false);
    assert.ok(c.lastError);
    assert.equal(c.limits().limits.opModExpLimW?.value, 1500, 'A2 still runs');
    clientClock.advance(600_000);
    assert.deepEqual(c.limits().limits.opModExpLimW?.source.kind, 'default');
  } finally {
    server.offline = false;
    await c.stop();
  }
});

test('a server certificate from another CA is refused; nothing is read', async () => {
  const rogue = new CsipTestServer({ cert: pki.rogueServerCert, key: pki.rogueServerKey, ca: pki.caCert, clock: serverClock });
  rogue.set('/dcap', dcapXml(300));
  const rogueUrl = await rogue.start();
  const c = new CsipClient({ baseUrl: rogueUrl, cert: pki.deviceCert, key: pki.deviceKey, ca: pki.caCert, clock: clientClock });
  try {
    assert.deepEqual(await c.tick(), []);
    assert.equal(c.reachable, false);
    assert.match(c.lastError ?? '', /certificate|self.signed|unable to verify/i);
    assert.equal(c.dcap, null);
    assert.equal(rogue.requests.length, 0);
  } finally {
    await c.stop();
    await rogue.close();
  }
});

test('a server certificate from the right CA for another host name is refused', async () => {
  const other = new CsipTestServer({ cert: pki.otherNameServerCert, key: pki.otherNameServerKey, ca: pki.caCert, clock: serverClock });
  other.set('/dcap', dcapXml(300));
  const otherUrl = await other.start();
  const c = new CsipClient({ baseUrl: otherUrl, cert: pki.deviceCert, key: pki.deviceKey, ca: pki.caCert, clock: clientClock });
  try {
    assert.deepEqual(await c.tick(), []);
    assert.match(c.lastError ?? '', /altnames|host|IP/i);
    assert.equal(other.requests.length, 0);
  } finally {
    await c.stop();
    await other.close();
  }
});

test('a wrong registration PIN stops discovery before the programs', async () => {
  const c = client({ pin: 222220 });
  try {
    clientClock.set(T0 * 1000);
    await c.tick();
    assert.match(c.lastError ?? '', /registration PIN 111115 is not the configured 222220/);
    assert.equal(c.programs().length, 0);
  } finally {
    await c.stop();
  }
});

test('a DERControl with a non-hex mRID: its list is refused and the problem kept against it through an unrelated 404, until a valid list is read', async () => {
  const c = client();
  // Hours apart, so none supersedes another.
  const valid = (mRID: string, n: number): ControlSpec => ({ mRID, start: T0 + 3600 * n, duration: 600, base: { opModLoadLimW: 700 } });
  try {
    clientClock.set(T0 * 1000);
    // The bad item is the third, on the second page (pages of two): the message names its place in the whole list.
    server.setList('/derp/C2/derc', 'DERControlList', [valid('C021', 1), valid('C022', 2), valid('S1', 3)].map(controlItem), 60);
    await c.tick();
    assert.equal(c.controlLists.has('/derp/C2/derc'), false, 'the whole list is refused');
    assert.deepEqual(c.problems(), [
      {
        resource: '/derp/C2/derc',
        message: 'DERControlList/DERControl[3]/mRID: expected hex of at most 128 bits, found "S1"',
        firstSeenAt: T0 * 1000,
        lastSeenAt: T0 * 1000,
        count: 1,
      },
    ]);

    // An unrelated failure a moment later (read after the list): the last error is the 404, the refused list is still named.
    server.remove('/derp/C2/dderc');
    clientClock.advance(60_000);
    await c.tick();
    clientClock.advance(60_000);
    await c.tick();
    assert.equal(c.lastError, 'GET /derp/C2/dderc: HTTP 404');
    assert.deepEqual(
      c.problems().map((p) => [p.resource, p.message, p.firstSeenAt, p.lastSeenAt, p.count]),
      [
        ['/derp/C2/dderc', 'GET /derp/C2/dderc: HTTP 404', (T0 + 120) * 1000, (T0 + 120) * 1000, 1],
        ['/derp/C2/derc', 'DERControlList/DERControl[3]/mRID: expected hex of at most 128 bits, found "S1"', T0 * 1000, (T0 + 120) * 1000, 3],
      ],
      'newest first; one entry for the list, counted at each retry (0, 60 and 120 s)',
    );
    assert.equal(
      c.limits().events.some((e) => e.mRID === 'C021'),
      false,
      'no event of the refused list is scheduled',
    );

    // The utility corrects the list and the default: both read again at their retry, their problems gone.
    server.setList('/derp/C2/derc', 'DERControlList', [valid('C021', 1), valid('C022', 2), valid('C023', 3)].map(controlItem), 60);
    server.set('/derp/C2/dderc', defaultXml('C2', { opModLoadLimW: 9000 }));
    clientClock.advance(30_000);
    const read = await c.tick();
    assert.ok(read.includes('/derp/C2/derc') && read.includes('/derp/C2/dderc'), read.join(' '));
    assert.deepEqual(c.problems(), []);
    assert.deepEqual(
      c
        .limits()
        .events.filter((e) => e.programMRID.endsWith('C2'))
        .map((e) => `${e.mRID}:${e.state}`),
      ['C021:scheduled', 'C022:scheduled', 'C023:scheduled'],
    );
  } finally {
    server.setList('/derp/C2/derc', 'DERControlList', [], 60);
    server.set('/derp/C2/dderc', defaultXml('C2', { opModLoadLimW: 9000 }));
    await c.stop();
  }
});

test('start(): the client polls on its own, at each resource pollRate, and posts its Responses', async () => {
  server.set('/dcap', dcapXml(1));
  server.requests.length = 0;
  const c = new CsipClient({ baseUrl: url, cert: pki.deviceCert, key: pki.deviceKey, ca: pki.caCert, clock: clockStartingAt(T0 * 1000) });
  try {
    await c.start(100);
    await sleep(1600);
    assert.ok(server.gets('/dcap').length >= 2, `DeviceCapability at its 1 s pollRate: ${server.gets('/dcap').length}`);
    assert.equal(server.gets('/edev/1/fsa').length, 1, 'the FSA list only at discovery (600 s)');
    assert.ok(server.posts('/rsps/1/rsp').length >= 5, 'responses posted by the loop');
  } finally {
    await c.stop();
    server.set('/dcap', dcapXml(300));
  }
});

test("a server's answer over 1 MiB is refused before parsing; the client keeps a bounded request log", async () => {
  const big = new CsipTestServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, clock: serverClock });
  big.set('/dcap', `<DeviceCapability xmlns="urn:ieee:std:2030.5:ns" href="/dcap"><!-- ${'x'.repeat(MAX_RESPONSE_BYTES)} --></DeviceCapability>`);
  const bigUrl = await big.start();
  const c = new CsipClient({ baseUrl: bigUrl, cert: pki.deviceCert, key: pki.deviceKey, ca: pki.caCert, clock: clientClock, retryMs: 100 });
  try {
    assert.deepEqual(await c.tick(), []);
    assert.match(c.lastError ?? '', /over 1048576 bytes; refused/);
    assert.equal(c.dcap, null, 'nothing parsed');
    // A site runs for months: the diagnostic log keeps the last REQUEST_LOG_SIZE requests only.
    big.set('/dcap', dcapXml(1));
    for (let i = 0; i < REQUEST_LOG_SIZE + 20; i++) {
      clientClock.set(clientClock() + 1500);
      await c.tick();
    }
    assert.ok(c.dcap, 'read once the answer is sane');
    assert.equal(c.log.length, REQUEST_LOG_SIZE);
  } finally {
    await c.stop();
    await big.close();
  }
});
