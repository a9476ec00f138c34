import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsipParseError, parseResource } from '../src/csip/resources.js';
import { activeLimits, limitValues } from '../src/csip/schedule.js';
import { controlItem, dcapXml, defaultXml, endDeviceItem, fsaItem, listXml, NS, programItem, registrationXml } from './helpers/csip-fixtures.js';

const T0 = 1782864000; // 2026-07-01T00:00:00Z

test('DeviceCapability: links and pollRate', () => {
  const d = parseResource('DeviceCapability', dcapXml(300));
  assert.equal(d.href, '/dcap');
  assert.equal(d.pollRate, 300);
  assert.equal(d.TimeLink?.href, '/tm');
  assert.deepEqual(d.EndDeviceListLink, { href: '/edev', all: 1 });
});

test('EndDeviceList with the CSIP-AUS ConnectionPointLink; one item is still a list', () => {
  const l = parseResource('EndDeviceList', listXml('EndDeviceList', [endDeviceItem('3e4f45ab31edfe5b67e343e5e4562e31984e23e5', 167261211391)]));
  assert.equal(l.all, 1);
  assert.equal(l.results, 1);
  assert.equal(l.EndDevice.length, 1);
  const e = l.EndDevice[0];
  assert.ok(e);
  assert.equal(e.lFDI, '3E4F45AB31EDFE5B67E343E5E4562E31984E23E5', 'hex upper-cased');
  assert.equal(e.sFDI, 167261211391);
  assert.equal(e.enabled, true);
  assert.equal(e.ConnectionPointLink?.href, '/edev/1/cp');
  assert.equal(e.FunctionSetAssignmentsListLink?.href, '/edev/1/fsa');
  const empty = parseResource('EndDeviceList', `<EndDeviceList ${NS} href="/edev" all="0" results="0"/>`);
  assert.deepEqual(empty.EndDevice, []);
});

test('Registration, FSA list, DERProgram list with primacy, Time', () => {
  assert.equal(parseResource('Registration', registrationXml(111115)).pIN, 111115);
  const f = parseResource('FunctionSetAssignmentsList', listXml('FunctionSetAssignmentsList', [fsaItem(1), fsaItem(2)]));
  assert.deepEqual(
    f.FunctionSetAssignments.map((x) => x.DERProgramListLink?.href),
    ['/edev/1/fsa/1/derp', '/edev/1/fsa/2/derp'],
  );
  const p = parseResource('DERProgramList', listXml('DERProgramList', [programItem('A1', 1), programItem('B2', 2)], 120));
  assert.equal(p.pollRate, 120);
  assert.deepEqual(
    p.DERProgram.map((x) => [x.primacy, x.DefaultDERControlLink?.href]),
    [
      [1, '/derp/A1/dderc'],
      [2, '/derp/B2/dderc'],
    ],
  );
  const t = parseResource(
    'Time',
    `<Time ${NS} href="/tm" pollRate="900"><currentTime>${T0}</currentTime><dstEndTime>0</dstEndTime><dstOffset>3600</dstOffset><dstStartTime>0</dstStartTime><localTime>${T0 + 36000}</localTime><quality>7</quality><tzOffset>36000</tzOffset></Time>`,
  );
  assert.equal(t.currentTime, T0);
  assert.equal(t.tzOffset, 36000);
});

test('DERControl: interval, randomization, EventStatus and the CSIP-AUS limits in watts', () => {
  const xml = listXml('DERControlList', [
    controlItem({
      mRID: 'ABCDEF0123456789ABCDEF0123456789',
      start: T0,
      duration: 1800,
      creationTime: T0 - 60,
      randomizeStart: 60,
      randomizeDuration: -30,
      base: { opModExpLimW: 1500, opModImpLimW: 5000, opModGenLimW: 3210, opModLoadLimW: 10000, opModConnect: true, opModEnergize: false, opModMaxLimW: 5000 },
    }),
  ]);
  const l = parseResource('DERControlList', xml);
  const c = l.DERControl[0];
  assert.ok(c);
  assert.equal(c.replyTo, '/rsps/1/rsp');
  assert.equal(c.responseRequired, '03');
  assert.deepEqual(c.interval, { duration: 1800, start: T0 });
  assert.equal(c.creationTime, T0 - 60);
  assert.equal(c.randomizeStart, 60);
  assert.equal(c.randomizeDuration, -30);
  assert.equal(c.EventStatus.currentStatus, 0);
  assert.deepEqual(c.DERControlBase.opModExpLimW, { multiplier: 2, value: 15, watts: 1500 });
  assert.equal(c.DERControlBase.opModImpLimW?.watts, 5000);
  assert.equal(c.DERControlBase.opModGenLimW?.watts, 3210);
  assert.equal(c.DERControlBase.opModLoadLimW?.watts, 10000);
  assert.equal(c.DERControlBase.opModConnect, true);
  assert.equal(c.DERControlBase.opModEnergize, false);
  assert.equal(c.DERControlBase.opModMaxLimW, 5000);
});

test('namespaces: prefixes resolved by declaration, any prefix for CSIP-AUS, v1.3 accepted, a prefixed root', () => {
  const xml = `<sep:DERControlList xmlns:sep="urn:ieee:std:2030.5:ns" xmlns:x="https://csipaus.org/ns/v1.3" all="1" results="1"><sep:DERControl><sep:mRID>AB</sep:mRID><sep:creationTime>${T0}</sep:creationTime><sep:EventStatus><sep:currentStatus>1</sep:currentStatus><sep:dateTime>${T0}</sep:dateTime><sep:potentiallySuperseded>false</sep:potentiallySuperseded></sep:EventStatus><sep:interval><sep:duration>60</sep:duration><sep:start>${T0}</sep:start></sep:interval><sep:DERControlBase><x:opModImpLimW><sep:multiplier>3</sep:multiplier><sep:value>5</sep:value></x:opModImpLimW></sep:DERControlBase></sep:DERControl></sep:DERControlList>`;
  const l = parseResource('DERControlList', xml);
  const c = l.DERControl[0];
  assert.ok(c);
  assert.equal(c.DERControlBase.opModImpLimW?.watts, 5000);
  assert.equal(c.EventStatus.currentStatus, 1);
});

test('storage target (CSIP-AUS v1.3 opModStorageTargetW): signed watts, scheduled like the limits; the storage beta namespace accepted, a wrong one refused', () => {
  const doc = (ns: string, value: number, multiplier = 1) =>
    `<DERControlList xmlns="urn:ieee:std:2030.5:ns" xmlns:csipaus="${ns}" all="1" results="1"><DERControl><mRID>AB</mRID><creationTime>${T0}</creationTime><EventStatus><currentStatus>1</currentStatus><dateTime>${T0}</dateTime><potentiallySuperseded>false</potentiallySuperseded></EventStatus><interval><duration>600</duration><start>${T0}</start></interval><DERControlBase><csipaus:opModExpLimW><multiplier>0</multiplier><value>2500</value></csipaus:opModExpLimW><csipaus:opModStorageTargetW><multiplier>${multiplier}</multiplier><value>${value}</value></csipaus:opModStorageTargetW></DERControlBase></DERControl></DERControlList>`;
  const c = parseResource('DERControlList', doc('https://csipaus.org/ns', -500)).DERControl[0];
  assert.ok(c);
  assert.deepEqual(c.DERControlBase.opModStorageTargetW, { multiplier: 1, value: -500, watts: -5000 }, 'a charge target is negative');
  assert.deepEqual(limitValues(c.DERControlBase), { opModExpLimW: 2500, opModStorageTargetW: -5000 });
  const l = activeLimits({ programs: [{ mRID: 'P1', primacy: 0, controls: [c] }], seed: 'x' }, T0 + 10).limits;
  assert.deepEqual(l.opModStorageTargetW, { value: -5000, source: { kind: 'event', eventMRID: 'AB', programMRID: 'P1', primacy: 0 } });
  assert.equal(
    parseResource('DERControlList', doc('https://csipaus.org/ns/v1.3-beta/storage', 300, 0)).DERControl[0]?.DERControlBase.opModStorageTargetW?.watts,
    300,
  );
  assert.throws(
    () => parseResource('DERControlList', doc('http://csipaus.org/ns', 300)),
    (e: unknown) => e instanceof CsipParseError && /opModExpLimW: expected namespace https:\/\/csipaus.org\/ns, found http:\/\/csipaus.org\/ns/.test(e.message),
  );
  assert.throws(
    () => parseResource('DERControlList', doc('https://csipaus.org/ns', 40000)),
    (e: unknown) => e instanceof CsipParseError && /opModStorageTargetW\/value: expected a power value \(Int16\)/.test(e.message),
  );
});

test('DefaultDERControl with setGradW', () => {
  const d = parseResource('DefaultDERControl', defaultXml('A1', { opModExpLimW: 5000, opModImpLimW: 0 }, 27));
  assert.equal(d.setGradW, 27);
  assert.equal(d.DERControlBase.opModExpLimW?.watts, 5000);
  assert.equal(d.DERControlBase.opModImpLimW?.watts, 0);
});

test('errors name the element and what was found', () => {
  const bad = (name: Parameters<typeof parseResource>[0], xml: string, re: RegExp): void => {
    assert.throws(
      () => parseResource(name, xml),
      (e: unknown) => e instanceof CsipParseError && re.test(e.message),
      `${name}: ${re}`,
    );
  };
  const ctl = (over: string): string =>
    listXml('DERControlList', [controlItem({ mRID: 'AB', start: T0, duration: 60, base: { opModExpLimW: 1500 } }).replace(`<start>${T0}</start>`, over)]);
  bad('DERControlList', ctl('<start>soon</start>'), /^DERControlList\/DERControl\[1\]\/interval\/start: expected a time .*found "soon"/);
  bad('DERControlList', ctl(''), /^DERControlList\/DERControl\[1\]\/interval\/start: .*found nothing/);
  bad(
    'DERProgramList',
    listXml('DERProgramList', [programItem('A1', 1).replace('<primacy>1</primacy>', '<primacy>300</primacy>')]),
    /DERProgram\[1\]\/primacy: expected a primacy \(UInt8\), found "300"/,
  );
  bad(
    'DERControlList',
    listXml('DERControlList', [
      controlItem({ mRID: 'AB', start: T0, duration: 60, base: { opModConnect: true } }).replace('<opModConnect>true', '<opModConnect>yes'),
    ]),
    /DERControlBase\/opModConnect: expected a boolean .*found "yes"/,
  );
  bad(
    'DERControlList',
    listXml('DERControlList', [controlItem({ mRID: 'ZZ', start: T0, duration: 60, base: {} })]),
    /DERControl\[1\]\/mRID: expected hex .*found "ZZ"/,
  );
  bad('Time', dcapXml(), /^DeviceCapability: expected a Time document, found root element DeviceCapability/);
  bad('Time', '<Time xmlns="http://csipaus.org/ns"/>', /expected namespace urn:ieee:std:2030.5:ns, found http:\/\/csipaus.org\/ns/);
  const wrongNs = listXml('DERControlList', [controlItem({ mRID: 'AB', start: T0, duration: 60, base: { opModExpLimW: 1500 } })]).replace(
    'xmlns:csipaus="https://csipaus.org/ns"',
    'xmlns:csipaus="http://csipaus.org/ns"',
  );
  bad(
    'DERControlList',
    wrongNs,
    /^DERControlList\/DERControl\/DERControlBase\/opModExpLimW: expected namespace https:\/\/csipaus.org\/ns, found http:\/\/csipaus.org\/ns/,
  );
  bad(
    'DERControlList',
    wrongNs.replace(/csipaus:opModExpLimW/g, 'opModExpLimW'),
    /opModExpLimW: expected namespace https:\/\/csipaus.org\/ns, found urn:ieee:std:2030.5:ns/,
  );
  bad('Time', '<Time><currentTime>1</Time>', /^\(document\): not well-formed XML/);
  bad(
    'DeviceCapability',
    `<DeviceCapability ${NS} href="/dcap"><TimeLink>x</TimeLink></DeviceCapability>`,
    /DeviceCapability\/TimeLink: expected an element with children, found "x"/,
  );
});
