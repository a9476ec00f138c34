import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { makeConformancePki } from '../src/csip/conformance/pki.js';
import { deviceIdentity } from '../src/csip/lfdi.js';
import { parseSubscription } from '../src/csip/pubsub.js';
import { CsipTestServer } from '../src/csip/test-server.js';
import { startSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { NOON, until } from './helpers/control-site.js';
import { controlItem, dcapXml, defaultXml, fsaItem, NS, programItem, registrationXml } from './helpers/csip-fixtures.js';

// The running site with `csip.notifications` (docs/csip.md#subscriptions): its 2030.5 client subscribes
// at the test server (HTTPS, mTLS, openssl certificates), and a DERControl the server notifies is in
// the process image's utility/* channels long before the list's 900 s pollRate would have brought it.

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });

test('a running site subscribes and takes a notified export limit without waiting for its next poll', async (t) => {
  const clock = clockStartingAt(NOON);
  const pki = makeConformancePki();
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-notify-'));
  const file = (name: string, pem: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, pem);
    return p;
  };
  const server = new CsipTestServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, clock, timePollRate: 900 });
  const me = deviceIdentity(pki.deviceCert);
  server.set('/dcap', dcapXml(900));
  server.setList(
    '/edev',
    'EndDeviceList',
    [
      `<EndDevice href="/edev/1"><lFDI>${me.lfdi}</lFDI><sFDI>${me.sfdi}</sFDI><FunctionSetAssignmentsListLink href="/edev/1/fsa" all="1"/><RegistrationLink href="/edev/1/rg"/><SubscriptionListLink href="/edev/1/sub" all="0"/></EndDevice>`,
    ],
    900,
  );
  server.set('/edev/1/rg', registrationXml(111115, 900));
  server.setList('/edev/1/fsa', 'FunctionSetAssignmentsList', [fsaItem(1)], 900, 1);
  server.setList('/edev/1/fsa/1/derp', 'DERProgramList', [programItem('A1', 1)], 900, 1);
  server.setList('/derp/A1/derc', 'DERControlList', [], 900, 1);
  server.set('/derp/A1/dderc', defaultXml('A1', { opModExpLimW: 3000 }));
  const url = await server.start();
  const port = await freePort();
  const sys = await startSystem({
    config: {
      site: { id: 'ntf', name: 'Notification test', timezone: 'Africa/Kampala' },
      poll: { intervalMs: 10_000 },
      storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 0 },
      http: { host: '127.0.0.1', port: 0 },
      csip: {
        server: url,
        cert: file('device.pem', pki.deviceCert),
        key: file('device.key', pki.deviceKey),
        ca: file('ca.pem', pki.caCert),
        poll: { tickMs: 250, retryMs: 1000 },
        evaluateEveryMs: 250,
        notifications: { host: '127.0.0.1', port, publicUri: `https://127.0.0.1:${port}/notify` },
      },
    },
    adminPassword: 'notify-test-password-1',
    clock,
    logger: pino({ level: 'silent' }),
  });
  t.after(async () => {
    await sys.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const limit = (): number | null | undefined => sys.site.image.get('utility', 'ExportLimitW')?.value;
  const source = (): number | null | undefined => sys.site.image.get('utility', 'ExportLimitWSource')?.value;

  await until('the default export limit is in force', () => limit() === 3000 && source() === 2, 15_000);
  await until(
    'the client has subscribed to the control list',
    () => server.posts('/edev/1/sub').some((r) => parseSubscription(r.body).subscribedResource === '/derp/A1/derc'),
    15_000,
  );
  const sub = server.posts('/edev/1/sub').map((r) => parseSubscription(r.body));
  assert.ok(sub.every((s) => s.notificationURI === `https://127.0.0.1:${port}/notify`));

  const gets = server.gets('/derp/A1/derc').length;
  const nowS = Math.floor(clock() / 1000);
  const e1 = controlItem({ mRID: 'E1', start: nowS - 5, duration: 600, creationTime: nowS - 10, base: { opModExpLimW: 1500 } });
  const body = `<Notification ${NS} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><subscribedResource>/derp/A1/derc</subscribedResource><Resource xsi:type="DERControlList" href="/derp/A1/derc" all="1" results="1">${e1}</Resource><status>0</status><subscriptionURI>${url}/edev/1/sub/1</subscriptionURI></Notification>`;
  assert.equal(await server.notify(`https://127.0.0.1:${port}/notify`, body, pki.caCert), 204);
  await until('the notified event limit is in force', () => limit() === 1500 && source() === 1, 5000);
  assert.equal(server.gets('/derp/A1/derc').length, gets, 'no GET of the list: the notification brought it');
  await until('EventReceived and Started were posted', () => server.posts('/rsps/1/rsp').length >= 2, 5000);
  assert.deepEqual(
    server.posts('/rsps/1/rsp').map((r) => /<status>(\d+)<\/status>/.exec(r.body)?.[1]),
    ['1', '2'],
  );
});
