import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { serveSunSpecDevice } from '../src/sim/sunspec-device.js';
import { startSystem } from '../src/system.js';
import { CsipClient } from '../src/csip/client.js';
import { SqliteTelemetryQueue } from '../src/csip/telemetry-queue.js';
import { clockStartingAt, manualClock } from '../src/util/clock.js';
import { NOON, sleep, until } from './helpers/control-site.js';
import { startReportingUtility } from './helpers/reporting-utility.js';

// Issue 11 item 4 on a running site, through the real protocols: a SunSpec PV inverter (models 1xx with
// a wye meter 203 at the connection point) and a SunSpec hybrid inverter with a battery (701-705, 802),
// both over Modbus TCP; the utility's 2030.5 server over HTTPS with mTLS (openssl certificates). The
// site registers in band, PUTs its ConnectionPoint and each DER's capability, settings and status, and
// posts the grid meter per phase and each DER at the server's postRate; the server goes offline for
// several post periods and every reading taken meanwhile arrives afterwards, in order, with its time.

const PASSWORD = 'reporting-test-password-1';
const LOAD = [400, 300, 300] as const;
const PV_W = 5000;
const HYB_RATING_W = 4000;
const HYB_PV_W = 2000;
const POST_S = 2;
const NMI = '4102000001';
/** The lower of 4 % and 100 W (CSIP-AUS measurement accuracy). */
const tolerance = (w: number): number => Math.min(0.04 * Math.abs(w), 100);

test('a running site registers in band, reports its SunSpec DERs and posts per-phase telemetry; readings taken while the server is offline arrive afterwards, in order, none lost', async (t) => {
  const clock = clockStartingAt(NOON);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-reporting-'));
  const pv = await serveSunSpecDevice({ kind: 'legacy', clock, ratingW: PV_W, availableW: () => PV_W, loadW: () => LOAD });
  const hyb = await serveSunSpecDevice({ kind: 'der', clock, ratingW: HYB_RATING_W, availableW: () => HYB_PV_W });
  const utility = await startReportingUtility({
    clock,
    ders: 2,
    rates: { dcap: 5, edev: 2, fsa: 5, derp: 5, derc: 2, der: 2, mup: 5, post: POST_S, time: 60 },
  });
  const queueFile = path.join(dir, 'csip-queue.db');
  const sys = await startSystem({
    config: {
      site: { id: 'rep', name: 'Reporting test', timezone: 'Africa/Kampala' },
      poll: { intervalMs: 10_000 },
      storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 0 },
      http: { host: '127.0.0.1', port: 0 },
      buses: [
        { id: 'pv', transport: 'tcp', host: '127.0.0.1', port: pv.listener.port, timeoutMs: 1000, retries: 0 },
        { id: 'hyb', transport: 'tcp', host: '127.0.0.1', port: hyb.listener.port, timeoutMs: 1000, retries: 0 },
      ],
      control: {
        devices: [
          { type: 'sunspec', component: 'pv0', bus: 'pv', address: 1, meter: 'grid' },
          { type: 'sunspec', component: 'hyb0', bus: 'hyb', address: 1 },
        ],
        assets: [
          { type: 'grid-meter', component: 'grid', perPhase: true },
          { type: 'pv', component: 'pv0', ratedW: PV_W },
          { type: 'pv', component: 'hyb0', ratedW: HYB_RATING_W },
        ],
        controllers: [{ kind: 'utility-limits', id: 'utility' }],
      },
      csip: {
        ...utility.csip,
        register: { deviceCategory: 1 << 18 },
        connectionPointId: NMI,
        poll: { tickMs: 250, retryMs: 1000 },
        evaluateEveryMs: 250,
        reporting: { queue: { path: queueFile } },
      },
    },
    adminPassword: PASSWORD,
    clock,
    logger: pino({ level: 'silent' }),
  });
  t.after(async () => {
    await sys.close();
    await utility.close();
    await pv.close();
    await hyb.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const runtime = sys.utility;
  assert.ok(runtime, 'the site runs the 2030.5 client');
  const client = runtime.client;
  const why = (): string => `client: ${client.lastError ?? 'no error'}; server errors: ${utility.errors.join('; ') || 'none'}`;
  const wait = (what: string, ok: () => boolean, ms = 20_000): Promise<void> =>
    until(what, ok, ms).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${why()}`);
    });

  // Registration and the connection point.
  await wait('the site registered in band', () => utility.registered !== null);
  assert.equal(utility.registered?.lfdi, client.identity.lfdi);
  assert.equal(utility.registered.deviceCategory, 1 << 18);
  await wait('the connection point is PUT', () => utility.connectionPointId === NMI);

  // DER reports: the legacy inverter's nameplate (120) and the hybrid's (702) and battery (802).
  await wait('both DERs reported with their nameplate and status', () => {
    const a = utility.ders.get(1);
    const b = utility.ders.get(2);
    return (
      a?.capability?.['rtgMaxW'] === PV_W &&
      b?.capability?.['rtgMaxWh'] !== undefined &&
      b.status?.['stateOfChargeStatus'] !== undefined &&
      a.status !== undefined
    );
  });
  const pvRep = utility.ders.get(1);
  const hybRep = utility.ders.get(2);
  assert.ok(pvRep?.capability && pvRep.settings && pvRep.status && hybRep?.capability && hybRep.settings && hybRep.status);
  t.diagnostic(`DER 1: ${JSON.stringify(pvRep)}`);
  t.diagnostic(`DER 2: ${JSON.stringify(hybRep)}`);
  assert.equal(pvRep.capability['type'], 4, 'the PV inverter is a photovoltaic DER');
  assert.equal(pvRep.capability['rtgMaxVA'], PV_W, 'model 120 VARtg');
  assert.equal(pvRep.capability['doeModesSupported'], 0b0101, 'export and generation limits for PV');
  assert.equal(pvRep.settings['doeModesEnabled'], 0b0101, 'the utility-limits controller runs');
  assert.equal(pvRep.settings['setMaxW'], PV_W);
  assert.equal(pvRep.settings['setGradW'], runtime.appliedSetGradW(), 'the ramp the site applies (ramp.ts: the default control setGradW, else 27)');
  assert.equal(typeof pvRep.settings['setGradW'], 'number');
  assert.equal(pvRep.status['genConnectStatus'], 0b111, 'connected, available, operating');
  assert.equal(pvRep.status['operationalModeStatus'], 2);
  assert.equal(pvRep.status['stateOfChargeStatus'], undefined, 'PV has no state of charge');
  assert.equal(hybRep.capability['type'], 83, 'PV and storage (701 and 802)');
  assert.equal(hybRep.capability['rtgMaxW'], HYB_RATING_W, '702 WMaxRtg');
  assert.equal(hybRep.capability['rtgMaxWh'], 10_240, '802 WHRtg');
  assert.equal(hybRep.capability['rtgMaxChargeRateW'], 5000, '802 WChaRteMax');
  assert.equal(hybRep.capability['rtgMaxDischargeRateW'], 5000, '802 WDisChaRteMax');
  assert.equal(hybRep.status['stateOfChargeStatus'], 6250, '802 SoC 62.5 % in hundredths');

  // Telemetry: the site per phase from the grid meter (203), each DER from its own channels.
  await wait(
    'two posts of every mirror',
    () => utility.mirrors.length === 3 && [1, 2, 3].every((id) => utility.readings.filter((r) => r.mupId === id).length >= 6),
    30_000,
  );
  const site = utility.mirrors.findIndex((m) => m.roleFlags === 0x03) + 1;
  assert.ok(site > 0, 'a site mirror (roleFlags 03)');
  const gridW = LOAD.map((l) => l - PV_W / 3);
  const last = (mupId: number, uom: number, phase: number): number | undefined =>
    utility.readings.filter((r) => r.mupId === mupId && r.uom === uom && (r.phase ?? 0) === phase).at(-1)?.value;
  [128, 64, 32].forEach((code, i) => {
    const expected = gridW[i] ?? NaN;
    const got = last(site, 38, code);
    assert.ok(got !== undefined && Math.abs(got - expected) <= tolerance(expected), `phase ${code}: ${got} W, meter ${expected.toFixed(0)} W`);
  });
  const total = gridW.reduce((a, b) => a + b, 0);
  const gotTotal = last(site, 38, 0);
  assert.ok(gotTotal !== undefined && Math.abs(gotTotal - total) <= tolerance(total), `total ${gotTotal} W, meter ${total.toFixed(0)} W`);
  t.diagnostic(
    `site readings (last post): ${JSON.stringify(
      utility.readings
        .filter((r) => r.mupId === site)
        .slice(-7)
        .map((r) => [r.uom, r.phase ?? 0, r.value, r.start]),
    )}`,
  );
  assert.equal(last(site, 29, 129), 230.4, 'voltage AN');
  assert.equal(last(site, 29, 33), 229.6, 'voltage CN');
  assert.equal(
    utility.readings.filter((r) => r.mupId === site && r.uom === 63).length,
    0,
    'the meter measures no reactive power, so none is posted (no made-up zero)',
  );
  const hybMup = utility.mirrors.findIndex((m) => m.roleFlags === 0x49 && m.description === 'DER 2') + 1;
  const hybW = last(hybMup, 38, 0);
  assert.ok(hybW !== undefined && Math.abs(hybW - HYB_PV_W) <= tolerance(HYB_PV_W), `hybrid ${hybW} W`);
  assert.equal(last(hybMup, 72, 0), 6400, 'stored energy: 62.5 % of 10,240 Wh');
  assert.deepEqual(utility.errors, []);

  // The server goes offline for 5 post periods; then back.
  const siteTotals = (): { start: number; receivedMs: number }[] =>
    utility.readings.filter((r) => r.mupId === site && r.uom === 38 && (r.phase ?? 0) === 0).map((r) => ({ start: r.start ?? NaN, receivedMs: r.receivedMs }));
  const before = siteTotals().length;
  utility.server.offline = true;
  const offAt = clock();
  await sleep(5 * POST_S * 1000 + 500);
  assert.equal(client.reachable, false, 'the client saw the server go');
  const queued = client.telemetryQueue.size;
  assert.ok(queued >= 3 * 5 - 3, `readings taken meanwhile are queued: ${queued}`);
  assert.ok(existsSync(queueFile), 'in the SQLite queue file');
  utility.server.offline = false;
  const backAt = clock();
  await wait('the queue is drained', () => client.telemetryQueue.size === 0, 20_000);
  await sleep(POST_S * 1000 + 500);
  const all = siteTotals();
  // Taken surely while the server was away: start (whole seconds, rounded down) after it went and a second before it came back.
  const during = all.filter((r) => r.start * 1000 > offAt && r.start * 1000 < backAt - 1000);
  assert.ok(during.length >= 3, `readings taken during the outage arrived: ${during.length}`);
  assert.ok(
    during.every((r) => r.receivedMs >= backAt),
    'they arrived after the server came back',
  );
  const starts = all.map((r) => r.start);
  for (let i = 1; i < starts.length; i++) {
    const gap = (starts[i] ?? 0) - (starts[i - 1] ?? 0);
    assert.ok(gap >= POST_S - 1 && gap <= POST_S + 1, `reading ${i}: ${gap} s after the one before (in order, none lost): ${starts.join(', ')}`);
  }
  assert.ok(all.length > before + 4, `${all.length - before} site readings since the outage began`);
  assert.equal(client.telemetryQueue.dropped, 0);
  t.diagnostic(`outage ${Math.round((backAt - offAt) / 1000)} s: ${during.length} site readings taken meanwhile, all delivered in order after it`);
});

test('a power cut while the server is away loses no reading: a new client on the same SQLite queue posts them in order when the server answers', async (t) => {
  const clock = manualClock(NOON);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-reporting-cut-'));
  const utility = await startReportingUtility({ clock, ders: 0, preRegistered: true, rates: { post: 60 } });
  t.after(async () => {
    await utility.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'csip-telemetry.db');
  let w = -500;
  const client = (): CsipClient =>
    new CsipClient({
      baseUrl: utility.url,
      cert: utility.pki.deviceCert,
      key: utility.pki.deviceKey,
      ca: utility.pki.caCert,
      clock,
      retryMs: 5000,
      telemetry: () => ({ site: { activePowerW: w }, ders: [] }),
      telemetryQueue: new SqliteTelemetryQueue(file, 1000),
    });
  const step = async (c: CsipClient, untilMs: number): Promise<void> => {
    while (clock() < untilMs) {
      w -= 1;
      await c.tick();
      clock.set(Math.max(clock() + 1000, Math.min(c.nextDueMs(), untilMs)));
    }
  };
  const first = client();
  await step(first, NOON + 150_000);
  assert.equal(utility.mirrors.length, 1, 'the site mirror was created');
  const before = utility.readings.length;
  utility.server.offline = true;
  const offAt = clock();
  await step(first, NOON + 600_000);
  assert.ok(first.telemetryQueue.size >= 6, `samples queued while offline: ${first.telemetryQueue.size}`);
  // The power goes: the client is gone without a goodbye; what was committed is in the file.
  await first.stop();
  utility.server.offline = false;
  const second = client();
  t.after(() => second.stop());
  await step(second, NOON + 700_000);
  assert.equal(second.telemetryQueue.size, 0, `queue drained: ${second.lastError ?? ''}`);
  const starts = utility.readings.slice(before).map((r) => r.start ?? NaN);
  const taken = starts.filter((s) => s * 1000 >= offAt && s * 1000 < NOON + 600_000);
  assert.ok(taken.length >= 7, `readings taken while the server was away arrived after the restart: ${taken.length}`);
  for (let i = 1; i < starts.length; i++) assert.ok((starts[i] ?? 0) > (starts[i - 1] ?? 0), `in order: ${starts.join(', ')}`);
  const gaps = starts.slice(1).map((s, i) => s - (starts[i] ?? 0));
  assert.ok(
    gaps.every((g) => g <= 61),
    `no post period missing: ${gaps.join(', ')}`,
  );
  assert.equal(second.telemetryQueue.dropped, 0);
});
