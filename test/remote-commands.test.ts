import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { clockStartingAt, type MovableClock } from '../src/util/clock.js';
import { ASSETS, DEVICES, NOON, until } from './helpers/control-site.js';
import { httpClient } from './helpers/http.js';
import { BROKER_HOST, BROKER_PORT, requireBroker, subscribe, type Subscriber } from './helpers/mqtt-peer.js';

/**
 * Remote commands and the device twin (issue 12 item 3, docs/uplink.md "Commands") on a running
 * simulated site with an edge cycle, through the machine's Mosquitto: commands published with
 * mosquitto_pub (an independent client), answers read with mosquitto_sub. Unauthorised, malformed and
 * replayed commands are refused with the field and change nothing; an authorised mode change is
 * applied, answered (ack, then result) and audited with its request id; a desired configuration
 * reaches the reported state, a bad one is refused, and the applied one survives a restart made by
 * the restart command.
 */
const PASSWORD = 'remote-test-password-1';
const VIEWER_PASSWORD = 'remote-viewer-password-1';
const PREFIX = `mgostest-${randomBytes(4).toString('hex')}`;
const SITE = 'ctl';
const base = `${PREFIX}/${SITE}`;
const SITE_FILE_CONTROLLERS = [{ kind: 'self-consumption', id: 'self' }];

let dir = '';
let clock: MovableClock;
let sys: RunningSystem | undefined;
let res: Subscriber | undefined;
let ready = false;
let adminToken = '';
let viewerToken = '';

function siteConfig(): Record<string, unknown> {
  return {
    site: { id: SITE, name: 'Remote command test', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 10_000 },
    storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 0 },
    http: { host: '127.0.0.1', port: 0 },
    // The simulator has customers 2-4; meter 3 is left for the setup-device command to add.
    meters: [
      { id: 100, name: 'main', type: '3phase', role: 'main' },
      { id: 2, name: 'house_2', type: '1phase' },
    ],
    sim: {
      enabled: true,
      seed: 3,
      customers: 3,
      port: 0,
      energy: { inverter: 'generic', capacityWh: 20_000, initialSoc: 0.6, maxPowerW: 6000, responseMs: 600, pvPeakWPerPhase: 3000, cloudiness: 0 },
    },
    control: {
      devices: DEVICES,
      assets: ASSETS,
      controllers: SITE_FILE_CONTROLLERS,
      safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
      // L2: the battery's dispatch waits for a person, so there are proposals to approve and reject by command.
      autonomy: [{ capability: 'battery-dispatch', asset: 'ess0', level: 'L2' }],
    },
    uplink: {
      url: `mqtt://${BROKER_HOST}:${BROKER_PORT}`,
      topicPrefix: PREFIX,
      clientId: `${PREFIX}-site`,
      health: { enabled: false },
      commands: { enabled: true },
    },
  };
}

async function start(): Promise<RunningSystem> {
  const s = await startSystem({ config: siteConfig(), adminPassword: PASSWORD, clock, simClock: clock, logger: pino({ level: 'silent' }) });
  // PV exports, so self-consumption proposes to charge the battery.
  s.sim?.energy?.setPvAvailable({ L1: 1000, L2: 1000, L3: 1000 });
  const http = httpClient(() => s.url);
  const token = await http.login('admin', PASSWORD);
  await until('the uplink is connected', async () => (await http.call('GET', '/api/uplink', { token })).json.state === 'connected');
  return s;
}

const api = () => httpClient(() => (sys ?? assert.fail('no site')).url);

function pub(topic: string, payload: string | null, retain = false): Promise<void> {
  const args = ['-h', BROKER_HOST, '-p', String(BROKER_PORT), '-V', 'mqttv5', '-q', '1', '-t', topic, ...(retain ? ['-r'] : [])];
  return new Promise((resolve, reject) =>
    execFile('mosquitto_pub', payload === null ? [...args, '-n'] : [...args, '-m', payload], (err, _out, stderr) =>
      err ? reject(new Error(`mosquitto_pub: ${stderr}`)) : resolve(),
    ),
  );
}

interface Answer {
  requestId: string;
  phase: 'ack' | 'result';
  status: string;
  field?: string;
  reason?: string;
  user?: string;
  result?: Record<string, unknown>;
}

/** The answers to one request id, in arrival order. */
const answersTo = (rid: string): Answer[] => (res?.messages ?? []).filter((m) => m.topic === `${base}/res/${rid}`).map((m) => JSON.parse(m.payload) as Answer);

async function answered(rid: string, n: number, ms = 15_000): Promise<Answer[]> {
  await until(`${n} answer(s) to ${rid}`, () => answersTo(rid).length >= n, ms);
  return answersTo(rid);
}

interface DesiredState {
  version: number;
  status: string;
  reason: string | null;
}
interface ReportedState {
  applied?: DesiredState | null;
  desired?: DesiredState | null;
  inStep?: boolean;
  config?: { controllers: Array<{ id: string; targetW?: number }> } | null;
}

let seq = 0;
const newId = (what: string): string => `${what}-${++seq}-${randomBytes(3).toString('hex')}`;

/** Publishes a command and returns its request id. */
async function send(
  command: { readonly type: string; readonly [field: string]: unknown },
  o: { token?: string; issuedAt?: number; rid?: string } = {},
): Promise<string> {
  const rid = o.rid ?? newId(command.type);
  await pub(`${base}/cmd/${rid}`, JSON.stringify({ issuedAt: o.issuedAt ?? clock(), auth: { token: o.token ?? adminToken }, command }));
  return rid;
}

async function controllers(): Promise<unknown> {
  const r = await api().call('GET', '/api/control', { token: adminToken });
  return (r.json.controllers as Array<{ id: string }>).map((c) => c.id);
}

async function audit(): Promise<Array<{ actor: string; action: string; detail: string }>> {
  const r = await api().call('GET', '/api/control/audit?verify=1', { token: adminToken });
  assert.deepEqual((r.json.verification as { ok: boolean }).ok, true, 'the hash chain holds');
  return r.json.entries as Array<{ actor: string; action: string; detail: string }>;
}

let skipped: string | null = null;

before(async () => {
  // requireBroker skips a test (or fails under CI); here it only says whether the broker is there.
  if (!(await requireBroker({ skip: (why) => (skipped = why ?? 'no broker') }))) return;
  dir = mkdtempSync(path.join(tmpdir(), 'mgos-remote-'));
  clock = clockStartingAt(NOON);
  res = await subscribe(`${base}/res/#`, { withoutMid: true });
  sys = await start();
  const http = api();
  adminToken = await http.login('admin', PASSWORD);
  assert.equal(
    (await http.call('POST', '/api/users', { token: adminToken, body: { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer' } })).status,
    200,
  );
  viewerToken = await http.login('vera', VIEWER_PASSWORD);
  ready = true;
});

after(async () => {
  await sys?.close();
  await res?.stop();
  if (ready) for (const t of ['twin/desired', 'twin/reported', 'status']) await pub(`${base}/${t}`, null, true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a ping from an admin is acknowledged and answered', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  const rid = await send({ type: 'ping' });
  const [ack, result] = await answered(rid, 2);
  assert.deepEqual([ack?.phase, ack?.status, ack?.user], ['ack', 'accepted', 'admin']);
  assert.deepEqual([result?.phase, result?.status, result?.result?.pong], ['result', 'done', true]);
});

test('approve and reject by command go through the one approvals queue, with the role and rules of POST /api/approvals', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  let pending: Array<{ id: string; target: string }> = [];
  await until('battery proposals are pending', async () => {
    pending = (await api().call('GET', '/api/approvals?state=pending', { token: adminToken })).json.proposals as typeof pending;
    return pending.filter((p) => p.id.startsWith('control-')).length >= 2;
  });
  const [first, second] = pending.filter((p) => p.id.startsWith('control-'));
  assert.ok(first && second);
  const byViewer = await send({ type: 'approve', id: first.id }, { token: viewerToken });
  assert.deepEqual(
    (await answered(byViewer, 1)).map((a) => [a.status, a.field]),
    [['refused', 'auth.token']],
  );
  const approve = await send({ type: 'approve', id: first.id });
  const [ack, done] = await answered(approve, 2);
  assert.deepEqual([ack?.status, done?.status], ['accepted', 'done'], JSON.stringify(done));
  assert.equal((done?.result?.proposal as { state: string }).state, 'approved');
  const again = await send({ type: 'approve', id: first.id });
  const [, failed] = await answered(again, 2);
  assert.equal(failed?.status, 'failed');
  assert.match(failed.reason ?? '', /is approved, not pending/);
  const reject = await send({ type: 'reject', id: second.id, reason: 'keep the battery for the evening' });
  assert.equal((await answered(reject, 2))[1]?.status, 'done');
  const proposals = (await api().call('GET', '/api/approvals', { token: adminToken })).json.proposals as Array<{ id: string; state: string }>;
  assert.deepEqual(
    [first.id, second.id].map((id) => proposals.find((p) => p.id === id)?.state),
    ['approved', 'rejected'],
  );
  const entries = await audit();
  assert.ok(entries.some((e) => e.action === 'approved' && e.actor === 'admin' && e.detail.startsWith(`proposal ${first.id.slice(8)}:`)));
  assert.ok(entries.some((e) => e.action === 'rejected' && e.detail.includes(`keep the battery for the evening (remote request ${reject})`)));
});

test('unauthorised and malformed commands are refused with the field and a reason, and change nothing', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  const before = await controllers();
  const mode = { type: 'mode', controllers: [{ kind: 'passive', id: 'hands_off' }], reason: 'should not happen' };
  const cases: Array<{ what: string; rid: Promise<string>; field: string; match: RegExp }> = [
    { what: 'unknown token', rid: send(mode, { token: 'x'.repeat(43) }), field: 'auth.token', match: /no session has this token/ },
    { what: 'viewer', rid: send(mode, { token: viewerToken }), field: 'auth.token', match: /vera has the role viewer; mode needs operator/ },
    { what: 'no reason', rid: send({ ...mode, reason: '' }), field: 'command.reason', match: /say why/ },
    {
      what: 'override too long',
      rid: send({ type: 'override', asset: 'ess0', setpoint: 1000, minutes: 5000, reason: 'x' }),
      field: 'command.minutes',
      match: /at most 1440/,
    },
    {
      what: 'unknown controller',
      rid: send({ ...mode, controllers: [{ kind: 'perpetual-motion', id: 'x' }] }),
      field: 'command.controllers.0.kind',
      match: /must be one of self-consumption, .*; found "perpetual-motion"/,
    },
    { what: 'unknown command', rid: send({ type: 'format-disk' }), field: 'command.type', match: /ping.*mode/ },
    { what: 'old', rid: send(mode, { issuedAt: clock() - 3_600_000 }), field: 'issuedAt', match: /is 36\d\d s old \(at most 300 s\)/ },
  ];
  const notJson = newId('garbage');
  await pub(`${base}/cmd/${notJson}`, '{"issuedAt": 1, "auth":');
  const big = newId('big');
  await pub(`${base}/cmd/${big}`, JSON.stringify({ issuedAt: clock(), auth: { token: adminToken }, command: { type: 'ping', pad: 'x'.repeat(20_000) } }));
  for (const c of cases) {
    const [ack, more] = await answered(await c.rid, 1);
    assert.equal(more, undefined, `${c.what}: no result after a refusal`);
    assert.deepEqual([ack?.phase, ack?.status, ack?.field], ['ack', 'refused', c.field], `${c.what}: ${JSON.stringify(ack)}`);
    assert.match(ack?.reason ?? '', c.match, c.what);
  }
  assert.match((await answered(notJson, 1))[0]?.reason ?? '', /^payload: not JSON/);
  assert.match((await answered(big, 1))[0]?.reason ?? '', /^payload: \d+ bytes, at most 16384/);
  assert.deepEqual(await controllers(), before, 'the controllers did not change');
  const st = await api().call('GET', '/api/control', { token: adminToken });
  assert.deepEqual(st.json.overrides, [], 'no override');
  const entries = await audit();
  assert.ok(!entries.some((e) => e.action === 'mode' && e.detail.includes('should not happen')), 'no mode change audited');
  const refused = entries.filter((e) => e.action === 'remote-refused');
  assert.ok(refused.length >= cases.length + 2, 'every refusal is audited');
  assert.ok(
    refused.some((e) => e.detail.includes(notJson)),
    'with its request id',
  );
});

test('an authorised mode change is applied, answered with ack then result, audited with the request id, and its replay is refused', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  const command = { type: 'mode', controllers: [{ kind: 'passive', id: 'hands_off' }], reason: 'grid works in the village' };
  const rid = newId('mode');
  const payload = JSON.stringify({ issuedAt: clock(), auth: { token: adminToken }, command });
  await pub(`${base}/cmd/${rid}`, payload);
  const [ack, result] = await answered(rid, 2);
  assert.deepEqual([ack?.phase, ack?.status, ack?.user], ['ack', 'accepted', 'admin']);
  assert.deepEqual([result?.phase, result?.status], ['result', 'done'], JSON.stringify(result));
  assert.deepEqual(await controllers(), ['hands_off']);
  const entries = await audit();
  const applied = entries.find((e) => e.action === 'mode' && e.detail.includes(`remote request ${rid}`));
  assert.equal(applied?.actor, 'admin', 'the mode change is audited as the person, with the request id');
  assert.match(applied.detail, /controllers now hands_off \(passive\): grid works in the village/);
  assert.ok(entries.some((e) => e.action === 'remote-done' && e.actor === 'admin' && e.detail.includes(rid)));

  // The same message again: the id was taken.
  await pub(`${base}/cmd/${rid}`, payload);
  const [, , replay] = await answered(rid, 3);
  assert.deepEqual([replay?.status, replay?.field], ['refused', 'requestId']);
  assert.match(replay?.reason ?? '', /already used/);
  assert.deepEqual(await controllers(), ['hands_off']);
});

test('state idle and running (GoToState_*): no controller acts while idle, all act again when running; audited with the request id', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  // GET /api/control lists the controllers that run; the answer lists the whole configured list with its flags.
  const running = async (): Promise<string[]> =>
    ((await api().call('GET', '/api/control', { token: adminToken })).json.controllers as Array<{ id: string }>).map((c) => c.id);
  const before = await running();
  assert.ok(before.length > 0, 'controllers run before');
  const idle = await send({ type: 'state', state: 'idle', reason: 'maintenance on the inverter' });
  const [ack, result] = await answered(idle, 2);
  assert.deepEqual([ack?.status, result?.status, result?.result?.state], ['accepted', 'done', 'idle'], JSON.stringify(result));
  const flags = (result?.result?.controllers as Array<{ id: string; enabled: boolean }>).map((c) => [c.id, c.enabled]);
  assert.deepEqual(
    flags,
    before.map((id) => [id, false]),
  );
  assert.deepEqual(await running(), [], 'no controller runs while idle');
  const resume = await send({ type: 'state', state: 'running', reason: 'maintenance done' });
  assert.equal((await answered(resume, 2))[1]?.status, 'done');
  assert.deepEqual(await running(), before, 'the same controllers run again');
  const entries = await audit();
  const mode = entries.filter((e) => e.action === 'mode' && e.detail.includes(`remote request ${idle}`));
  assert.equal(mode.length, 1);
  assert.match(mode[0]?.detail ?? '', /idle: measuring and recording, no controller acts; maintenance on the inverter/);
  assert.equal((await answered(await send({ type: 'state', state: 'idle', reason: 'x' }, { token: viewerToken }), 1))[0]?.status, 'refused');
});

test('setup-device (Setup_Device) adds a meter while the site runs, as POST /api/meters: verified by reading it; a meter that does not answer is rolled back', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  const rid = await send({ type: 'setup-device', meter: { id: 3, name: 'house_3', type: '1phase' }, reason: 'installed today' });
  const [ack, result] = await answered(rid, 2, 40_000);
  assert.deepEqual([ack?.status, result?.status], ['accepted', 'done'], JSON.stringify(result));
  assert.equal((result?.result?.meter as { id: number }).id, 3);
  const meters = (await api().call('GET', '/api/meters', { token: adminToken })).json.meters as Array<{ key: string }>;
  assert.ok(
    meters.some((m) => m.key === 'meter3'),
    JSON.stringify(meters.map((m) => m.key)),
  );
  // Address 77 has no meter on the simulated bus: not verified, rolled back, answered failed with the reason.
  const ghost = await send({ type: 'setup-device', meter: { id: 77, name: 'house_77', type: '1phase' }, reason: 'wrong address' });
  const [, failed] = await answered(ghost, 2, 40_000);
  assert.equal(failed?.status, 'failed', JSON.stringify(failed));
  const after = (await api().call('GET', '/api/meters', { token: adminToken })).json.meters as Array<{ key: string }>;
  assert.ok(!after.some((m) => m.key === 'meter77'), 'rolled back');
  const bad = await send({ type: 'setup-device', meter: { id: 5, name: 'house 5', type: '1phase' }, reason: 'x' });
  const [refused] = await answered(bad, 1);
  assert.deepEqual([refused?.status, refused?.field], ['refused', 'command.meter.name'], JSON.stringify(refused));
});

test('an override and its release by command are those of POST /api/control/override: by the user, with the request id, audited', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  const rid = await send({ type: 'override', asset: 'ess0', mode: 'idle', minutes: 5, reason: 'inverter service' });
  const [ack, result] = await answered(rid, 2);
  assert.deepEqual([ack?.status, result?.status], ['accepted', 'done'], JSON.stringify(result));
  const st = await api().call('GET', '/api/control', { token: adminToken });
  const ess = (st.json.overrides as Array<{ asset: string; by: string; value: number; reason: string }>).filter((o) => o.asset === 'ess0');
  assert.equal(ess.length, 3, 'one per phase of the per-phase battery');
  assert.ok(
    ess.every((o) => o.by === 'admin' && o.value === 0 && o.reason === `inverter service (remote request ${rid})`),
    JSON.stringify(ess),
  );
  const unknown = await send({ type: 'override', asset: 'ess9', setpoint: 100, minutes: 5, reason: 'x' });
  const [, failed] = await answered(unknown, 2);
  assert.equal(failed?.status, 'failed');
  assert.match(failed.reason ?? '', /no asset "ess9"; assets: ess0, pv0/);
  const release = await send({ type: 'release-override', asset: 'ess0', reason: 'service done' });
  assert.equal((await answered(release, 2))[1]?.status, 'done');
  assert.deepEqual((await api().call('GET', '/api/control', { token: adminToken })).json.overrides, []);
  const entries = await audit();
  assert.ok(entries.some((e) => e.action === 'override' && e.actor === 'admin' && e.detail.includes(`remote request ${rid}`)));
  assert.ok(entries.some((e) => e.action === 'remote-failed' && e.detail.includes(unknown)));
});

test('a desired configuration reaches the reported state; a bad one is refused and changes nothing; the applied one survives a restart by command', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  const reported = await subscribe(`${base}/twin/reported`, { withoutMid: true });
  try {
    const last = () => JSON.parse(reported.messages.at(-1)?.payload ?? '{}') as ReportedState;
    const desired = (version: number, controllerList: unknown[], rid: string) =>
      JSON.stringify({ requestId: rid, issuedAt: clock(), auth: { token: adminToken }, version, config: { controllers: controllerList } });
    const v1 = newId('desired');
    await pub(`${base}/twin/desired`, desired(1, [{ kind: 'self-consumption', id: 'cloud_self', targetW: 100 }], v1), true);
    const [ack, result] = await answered(v1, 2);
    assert.deepEqual([ack?.status, result?.status], ['accepted', 'done'], JSON.stringify(result));
    await until('reported shows v1 in step', () => last().applied?.version === 1 && last().inStep === true);
    assert.deepEqual(
      last().config?.controllers.map((c) => [c.id, c.targetW]),
      [['cloud_self', 100]],
    );
    assert.deepEqual(await controllers(), ['cloud_self']);

    // Version 2 names a controller kind that does not exist: refused, v1 stays in force.
    const v2 = newId('desired');
    await pub(`${base}/twin/desired`, desired(2, [{ kind: 'perpetual-motion', id: 'x' }], v2), true);
    const [refusedV2] = await answered(v2, 1);
    assert.deepEqual([refusedV2?.phase, refusedV2?.status, refusedV2?.field], ['ack', 'refused', 'config.controllers.0.kind'], JSON.stringify(refusedV2));
    await until('reported shows v2 refused', () => last().desired?.version === 2);
    assert.equal(last().desired?.status, 'refused');
    assert.match(last().desired?.reason ?? '', /config\.controllers\.0\.kind/);
    assert.deepEqual([last().applied?.version, last().inStep], [1, true]);
    assert.deepEqual(await controllers(), ['cloud_self']);

    // A viewer may not restart; an admin may, through the path `mgos start` takes.
    const refused = await send({ type: 'restart', reason: 'x' }, { token: viewerToken });
    assert.equal((await answered(refused, 1))[0]?.status, 'refused');
    const running = sys ?? assert.fail('no site');
    const rid = await send({ type: 'restart', reason: 'new firmware' });
    const [rAck, rResult] = await answered(rid, 2);
    assert.deepEqual([rAck?.status, rResult?.status], ['accepted', 'done']);
    const why = await running.restartRequested;
    assert.match(why, new RegExp(`remote request ${rid} by admin: new firmware`));
    await running.close();
    sys = undefined;
    reported.messages.length = 0;
    sys = await start();
    // The site file says self-consumption "self"; the cached desired v1 is what runs. The retained v2 is not processed again.
    assert.deepEqual(await controllers(), ['cloud_self']);
    await until('reported after the restart', () => last().applied?.version === 1);
    assert.deepEqual([last().inStep, last().desired?.version, last().desired?.status], [true, 2, 'refused']);
    assert.equal(answersTo(v2).length, 1, 'the retained v2 was not answered again');
    const restored = (await audit()).find((e) => e.action === 'mode' && e.detail.includes('restored at start'));
    assert.equal(restored?.actor, 'system');
    assert.match(restored.detail, new RegExp(`desired configuration v1 from admin \\(remote request ${v1}\\)`));
  } finally {
    await reported.stop();
  }
});

test('a flood of commands from nobody known is answered and audited up to a rate; the rest are counted into the next entry', async (t) => {
  if (!ready) {
    t.skip(skipped ?? 'setup failed');
    return;
  }
  // A fresh minute for the rate (earlier tests' refusals are in the last one).
  clock.moveTo(clock() + 61_000);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) ids.push(await send({ type: 'ping' }, { token: 'y'.repeat(43) }));
  await answered(ids[9] ?? '', 1);
  const ping = await send({ type: 'ping' });
  await answered(ping, 2);
  const answeredIds = ids.filter((id) => answersTo(id).length > 0);
  assert.equal(answeredIds.length, 10, 'ten answers in the minute');
  let entries = await audit();
  const floodEntries = entries.filter((e) => e.action === 'remote-refused' && ids.some((id) => e.detail.includes(id)));
  assert.equal(floodEntries.length, 10, 'ten audit entries in the minute');
  // The next minute: the next refusal says how many went unanswered.
  clock.moveTo(clock() + 61_000);
  const next = await send({ type: 'ping' }, { token: 'y'.repeat(43) });
  assert.equal((await answered(next, 1))[0]?.status, 'refused');
  entries = await audit();
  const summary = entries.find((e) => e.action === 'remote-refused' && e.detail.includes(next));
  assert.match(summary?.detail ?? '', /and 20 more refused without an answer or an audit entry/);
});
