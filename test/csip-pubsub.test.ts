import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CsipClient } from '../src/csip/client.js';
import { makeConformancePki, type Pki } from '../src/csip/conformance/pki.js';
import { deviceIdentity } from '../src/csip/lfdi.js';
import { parseNotification, parseSubscription, parseSubscriptionList, subscriptionXml } from '../src/csip/pubsub.js';
import { CsipPubSub } from '../src/csip/pubsub-runtime.js';
import { NOTIFICATION_RECORDS_KEPT } from '../src/csip/notification-server.js';
import { CsipTestServer } from '../src/csip/test-server.js';
import { manualClock } from '../src/util/clock.js';
import { controlItem, dcapXml, defaultXml, fsaItem, NS, programItem, registrationXml } from './helpers/csip-fixtures.js';

// IEEE 2030.5 Pub-Sub (docs/csip.md#subscriptions): resources written from sep.xsd and the standard's
// Annex C.7 example, and a real exchange over HTTPS with mutual TLS (openssl certificates).

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

test('a Subscription as in IEEE 2030.5 Annex C.7 parses, and the one the client writes reads back the same', () => {
  const s = parseSubscription(
    `<Subscription xmlns="urn:ieee:std:2030.5:ns"><subscribedResource>/upt/0/mr/4/r</subscribedResource><Condition><attributeIdentifier>0</attributeIdentifier><lowerThreshold>10</lowerThreshold><upperThreshold>1000</upperThreshold></Condition><encoding>0</encoding><level>+S1</level><limit>1</limit><notificationURI>/note</notificationURI></Subscription>`,
  );
  assert.equal(s.subscribedResource, '/upt/0/mr/4/r');
  assert.deepEqual(s.Condition, { attributeIdentifier: 0, lowerThreshold: '10', upperThreshold: '1000' });
  assert.deepEqual([s.encoding, s.level, s.limit, s.notificationURI], [0, '+S1', 1, '/note']);
  const mine = parseSubscription(
    subscriptionXml({ subscribedResource: '/edev/1/derp/1/derc', limit: 100, notificationURI: 'https://site.example:8443/notify?a=1&b=2' }),
  );
  assert.equal(mine.notificationURI, 'https://site.example:8443/notify?a=1&b=2');
  assert.equal(mine.Condition, undefined);
  const list = parseSubscriptionList(
    `<SubscriptionList ${NS} href="/edev/1/sub" all="1" results="1">${subscriptionXml({ subscribedResource: '/x', limit: 5, notificationURI: 'https://a/n' }).replace(' xmlns="urn:ieee:std:2030.5:ns"', '')}</SubscriptionList>`,
  );
  assert.equal(list.Subscription[0]?.limit, 5);
  assert.throws(
    () =>
      parseSubscription(
        `<Subscription xmlns="urn:ieee:std:2030.5:ns"><encoding>0</encoding><level>+S1</level><limit>1</limit><notificationURI>/n</notificationURI></Subscription>`,
      ),
    /Subscription\/subscribedResource: expected text, found nothing/,
  );
});

test('a Notification carries its resource typed by xsi:type; it comes out as a standalone, validated document', () => {
  const list = `<Resource xsi:type="DERControlList" href="/derp/C1/derc" all="1" results="1" subscribable="1">${controlItem({ mRID: 'E1', start: 1782864000, duration: 600, base: { opModExpLimW: 1500 } })}</Resource>`;
  const n = parseNotification(
    `<Notification ${NS} ${XSI}><subscribedResource>/derp/C1/derc</subscribedResource>${list}<status>0</status><subscriptionURI>https://utility.example/edev/1/sub/3</subscriptionURI></Notification>`,
  );
  assert.equal(n.subscribedResource, '/derp/C1/derc');
  assert.equal(n.status, 0);
  assert.equal(n.subscriptionURI, 'https://utility.example/edev/1/sub/3');
  assert.equal(n.resource?.type, 'DERControlList');
  assert.match(
    n.resource.xml,
    /^<DERControlList xmlns="urn:ieee:std:2030.5:ns" xmlns:csipaus="https:\/\/csipaus.org\/ns"|^<DERControlList [^>]*xmlns="urn:ieee:std:2030.5:ns"/,
  );
  assert.doesNotMatch(n.resource.xml, /xsi:type/);
  // Prefixed all through (sep: and xsi declared on the root), as another server may write it.
  const prefixed = parseNotification(
    `<sep:Notification xmlns:sep="urn:ieee:std:2030.5:ns" xmlns:x="http://www.w3.org/2001/XMLSchema-instance"><sep:subscribedResource>/derp/C1/dderc</sep:subscribedResource><sep:Resource x:type="sep:DefaultDERControl" href="/derp/C1/dderc"><sep:mRID>D1</sep:mRID><sep:DERControlBase><sep:opModConnect>true</sep:opModConnect></sep:DERControlBase><sep:setGradW>100</sep:setGradW></sep:Resource><sep:status>0</sep:status><sep:subscriptionURI>https://u/sub/1</sep:subscriptionURI></sep:Notification>`,
  );
  assert.equal(prefixed.resource?.type, 'DefaultDERControl');
  // A cancellation (status 4, resource deleted) carries no resource.
  const gone = parseNotification(
    `<Notification ${NS}><subscribedResource>/derp/C2/derc</subscribedResource><status>4</status><subscriptionURI>https://u/sub/2</subscriptionURI></Notification>`,
  );
  assert.deepEqual([gone.status, gone.resource], [4, undefined]);
  const bad = (xml: string, re: RegExp): void => assert.throws(() => parseNotification(xml), re);
  bad(
    `<Notification ${NS}><subscribedResource>/a</subscribedResource><Resource href="/a"/><status>0</status><subscriptionURI>https://u/s</subscriptionURI></Notification>`,
    /expected an xsi:type/,
  );
  bad(
    `<Notification ${NS} ${XSI}><subscribedResource>/a</subscribedResource><Resource xsi:type="Reading"><value>1</value></Resource><status>0</status><subscriptionURI>https://u/s</subscriptionURI></Notification>`,
    /expected one of EndDeviceList.*found xsi:type Reading/,
  );
  bad(
    `<Notification ${NS}><subscribedResource>/a</subscribedResource><subscriptionURI>https://u/s</subscriptionURI></Notification>`,
    /Notification\/status: expected a notification status/,
  );
  bad(
    `<Notification ${NS} ${XSI}><subscribedResource>/a</subscribedResource><Resource xsi:type="DERControlList" all="x" results="0"/><status>0</status><subscriptionURI>https://u/s</subscriptionURI></Notification>`,
    /DERControlList\/all: expected a count/,
  );
  bad(`<Subscription ${NS}/>`, /expected a Notification document/);
});

// ---- over HTTPS with mutual TLS ----------------------------------------------------------------

const T0 = 1782864000;
const clock = manualClock(T0 * 1000);
let pki: Pki;
let rogue: Pki;
let server: CsipTestServer;
let client: CsipClient;
let pubsub: CsipPubSub;

const derc = (items: readonly string[]): string =>
  `<Resource xsi:type="DERControlList" href="/derp/C1/derc" all="${items.length}" results="${items.length}" subscribable="1" pollRate="900">${items.join('')}</Resource>`;
const notification = (resource: string, body: string, status = 0): string =>
  `<Notification ${NS} ${XSI}><subscribedResource>${resource}</subscribedResource>${body}<status>${status}</status><subscriptionURI>https://127.0.0.1/edev/1/sub/1</subscriptionURI></Notification>`;

before(async () => {
  pki = makeConformancePki();
  rogue = makeConformancePki();
  server = new CsipTestServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, clock, timePollRate: 900 });
  const me = deviceIdentity(pki.deviceCert);
  server.set('/dcap', dcapXml(900));
  server.setList(
    '/edev',
    'EndDeviceList',
    [
      `<EndDevice href="/edev/1" subscribable="0"><lFDI>${me.lfdi}</lFDI><sFDI>${me.sfdi}</sFDI><FunctionSetAssignmentsListLink href="/edev/1/fsa" all="1"/><RegistrationLink href="/edev/1/rg"/><SubscriptionListLink href="/edev/1/sub" all="0"/></EndDevice>`,
    ],
    900,
  );
  server.set('/edev/1/rg', registrationXml(111115, 900));
  server.setList('/edev/1/fsa', 'FunctionSetAssignmentsList', [fsaItem(1)], 900, 1);
  server.setList('/edev/1/fsa/1/derp', 'DERProgramList', [programItem('C1', 1)], 900, 1);
  server.setList('/derp/C1/derc', 'DERControlList', [], 900, 1);
  server.set('/derp/C1/dderc', defaultXml('C1', { opModExpLimW: 5000 }).replace('href="/derp/C1/dderc"', 'href="/derp/C1/dderc" subscribable="1"'));
  server.setList('/edev/1/sub', 'SubscriptionList', [], 900);
  const url = await server.start();
  client = new CsipClient({ baseUrl: url, cert: pki.deviceCert, key: pki.deviceKey, ca: pki.caCert, clock, pageSize: 10 });
  pubsub = new CsipPubSub(client, {
    clock,
    cert: pki.deviceCert,
    key: pki.deviceKey,
    ca: pki.caCert,
    host: '127.0.0.1',
    port: 0,
    publicUri: (port) => `https://127.0.0.1:${port}/notify`,
    maxBodyBytes: 8192,
    limit: 100,
    retryMs: 30_000,
  });
  await pubsub.start();
});

after(async () => {
  await pubsub.stop();
  await client.stop();
  await server.close();
});

test('over mTLS: the client subscribes, a notified new DERControl is applied and answered before the next poll', async () => {
  await client.tick();
  assert.equal(client.lastError, null);
  await pubsub.sync();
  const posted = server.posts('/edev/1/sub').map((r) => parseSubscription(r.body));
  assert.deepEqual(posted.map((s) => s.subscribedResource).sort(), ['/derp/C1/dderc', '/derp/C1/derc', '/edev/1/fsa', '/edev/1/fsa/1/derp']);
  const uri = posted[0]?.notificationURI ?? '';
  assert.match(uri, /^https:\/\/127\.0\.0\.1:\d+\/notify$/);
  assert.ok(posted.every((s) => s.encoding === 0 && s.level === '+S1' && s.limit === 100));

  clock.set((T0 + 60) * 1000);
  const dercGets = server.gets('/derp/C1/derc').length;
  const nextPoll = client.polled().find((p) => p.href === '/derp/C1/derc')?.nextDueMs;
  const e1 = controlItem({ mRID: 'E1', start: T0 + 30, duration: 600, creationTime: T0 + 55, base: { opModExpLimW: 1500 } });
  assert.equal(await server.notify(uri, notification('/derp/C1/derc', derc([e1])), pki.caCert), 204);
  await pubsub.server.idle();

  // Applied through the poll code path: the limit is in force, EventReceived and Started posted, no GET made.
  assert.equal(client.limits().limits.opModExpLimW?.value, 1500);
  assert.equal(client.limits().limits.opModExpLimW?.source.kind, 'event');
  const responses = server.posts('/rsps/1/rsp').map((r) => /<status>(\d+)<\/status>/.exec(r.body)?.[1]);
  assert.deepEqual(responses, ['1', '2']);
  assert.equal(server.gets('/derp/C1/derc').length, dercGets);
  assert.equal(client.polled().find((p) => p.href === '/derp/C1/derc')?.nextDueMs, nextPoll);
  assert.deepEqual(pubsub.applied, ['/derp/C1/derc']);
});

test('refused: an oversize body (413), a resource of the wrong type or not subscribed (400), another path (404)', async () => {
  const uri = pubsub.subscriptions.notificationURI;
  const before = client.limits().limits.opModExpLimW?.value;
  const big = derc(Array.from({ length: 40 }, (_, i) => controlItem({ mRID: `F${i}`, start: T0, duration: 600, base: { opModExpLimW: 100 } })));
  // The endpoint answers 413 and closes; the sender may see the answer or the closed connection.
  const status = await server.notify(uri, notification('/derp/C1/derc', big), pki.caCert).catch(() => 413);
  assert.equal(status, 413);
  assert.equal(pubsub.server.received.at(-1)?.status, 413);
  assert.equal(await server.notify(uri, notification('/derp/C1/dderc', derc([])), pki.caCert), 400);
  assert.match(pubsub.server.received.at(-1)?.detail ?? '', /is a DefaultDERControl, the notification carries a DERControlList/);
  assert.equal(await server.notify(uri, notification('/derp/C9/derc', derc([])), pki.caCert), 400);
  assert.equal(await server.notify(uri, notification('/derp/C1/derc', derc([]).replace('href="/derp/C1/derc"', 'href="/derp/C2/derc"')), pki.caCert), 400);
  assert.match(pubsub.server.received.at(-1)?.detail ?? '', /carries the resource at \/derp\/C2\/derc/);
  assert.equal(await server.notify(uri.replace('/notify', '/other'), notification('/derp/C1/derc', derc([])), pki.caCert), 404);
  assert.equal(await server.notify(uri, '<Notification', pki.caCert), 400);
  await pubsub.server.idle();
  assert.equal(client.limits().limits.opModExpLimW?.value, before);
  assert.deepEqual(pubsub.applied, ['/derp/C1/derc']);
});

test('refused: a sender whose certificate is not signed by the configured CA never gets a request through', async () => {
  const uri = pubsub.subscriptions.notificationURI;
  const n = pubsub.server.received.length;
  await assert.rejects(server.notify(uri, notification('/derp/C1/derc', derc([])), pki.caCert, { cert: rogue.serverCert, key: rogue.serverKey }));
  await pubsub.server.idle();
  assert.equal(pubsub.server.received.length, n);
  assert.equal(client.limits().limits.opModExpLimW?.value, 1500);
});

test('subscriptions are made again when the server has lost them (a restart) or cancels one (status 1)', async () => {
  const posts = server.posts('/edev/1/sub').length;
  // The server's SubscriptionList is empty (it restarted): read at its pollRate, every subscription is made again.
  clock.set((T0 + 60 + 901) * 1000);
  await pubsub.sync();
  assert.equal(server.posts('/edev/1/sub').length, posts + 4);
  const uri = pubsub.subscriptions.notificationURI;
  assert.equal(await server.notify(uri, notification('/derp/C1/dderc', '', 1), pki.caCert), 204);
  await pubsub.server.idle();
  assert.equal(pubsub.subscriptions.held.has('/derp/C1/dderc'), false);
  await pubsub.sync();
  const again = server
    .posts('/edev/1/sub')
    .slice(posts + 4)
    .map((r) => parseSubscription(r.body).subscribedResource);
  assert.deepEqual(again, ['/derp/C1/dderc']);
});

test('a flood of notifications: every one answered, memory bounded, applied one at a time with the newest kept', async (t) => {
  const uri = pubsub.subscriptions.notificationURI;
  await pubsub.sync();
  assert.ok(pubsub.subscriptions.held.has('/derp/C1/derc'), 'the control list is subscribed');
  const applied = pubsub.applied.length;
  const rsps = server.posts('/rsps/1/rsp').length;
  const sent = 400;
  const limitOf = (i: number): number => 1000 + i;
  const now = Math.floor(clock() / 1000);
  // 16 senders at a time (the endpoint holds 16 connections); each notification carries a new limit.
  const statuses: number[] = [];
  for (let i = 0; i < sent; i += 16) {
    const batch = Array.from({ length: Math.min(16, sent - i) }, (_, k) => {
      const item = controlItem({
        mRID: `F1${(i + k).toString(16).padStart(4, '0')}`,
        start: now - 10,
        duration: 600,
        creationTime: now - 400 + i + k,
        base: { opModExpLimW: limitOf(i + k) },
      });
      return server.notify(uri, notification('/derp/C1/derc', derc([item])), pki.caCert);
    });
    statuses.push(...(await Promise.all(batch)));
  }
  await pubsub.server.idle();
  assert.equal(
    statuses.filter((s) => s === 204).length,
    sent,
    `answers: ${JSON.stringify([...pubsub.server.answered])}, last: ${pubsub.server.received.at(-1)?.detail ?? ''}`,
  );
  assert.ok(pubsub.server.received.length <= NOTIFICATION_RECORDS_KEPT, `${pubsub.server.received.length} records kept`);
  assert.ok(pubsub.applied.length <= 200);
  // Coalesced: fewer applications than notifications, and the newest one is what is in force.
  const appliedNow = pubsub.applied.length - applied;
  assert.ok(appliedNow >= 1 && appliedNow < sent, `${appliedNow} applied of ${sent}`);
  t.diagnostic(`${sent} notifications: ${appliedNow} applied, ${pubsub.server.received.length} answers kept`);
  assert.equal(client.limits().limits.opModExpLimW?.value, limitOf(sent - 1));
  assert.ok(server.posts('/rsps/1/rsp').length > rsps, 'responses posted for the events received');
});
