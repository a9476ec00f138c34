import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { serveSunSpecDevice } from '../src/sim/sunspec-device.js';
import { startSystem, type RunningSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { utilityAnswerSchema, utilityStatusSchema, type UtilityStatus } from '../src/csip/routes.js';
import { NOON, sleep, until } from './helpers/control-site.js';
import { httpClient } from './helpers/http.js';
import { startUtilityServer, sunSpecPvSiteConfig } from './helpers/utility-server.js';

// The compliance figures of GET /api/utility on a real system with known flows: a SunSpec inverter over
// Modbus TCP makes 5 kW of PV with 1 kW of load behind the meter, so the connection point exports 4 kW,
// and nothing curtails it (no utility-limits controller). The utility's default control sets an export
// limit of 1.5 kW (2.5 kW above it), a generation limit of 4 kW (1 kW above) and an import limit of 2 kW
// (nothing imported): every figure follows from those numbers and the time counted. Then an event of
// 4.5 kW export is met at once, and the figures survive a restart on the same database.

const PASSWORD = 'compliance-test-password-1';
const LOAD = [400, 300, 300] as const;
const PV_W = 5000;
const EXPORT_W = PV_W - (LOAD[0] + LOAD[1] + LOAD[2]);

test('compliance figures from known flows: seconds within and above, energy above, largest excess, the last event met, kept across a restart', async (t) => {
  const clock = clockStartingAt(NOON);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-compliance-'));
  const inverter = await serveSunSpecDevice({ kind: 'legacy', clock, ratingW: PV_W, availableW: () => PV_W, loadW: () => LOAD });
  // setGradW 0: no ramp limit, so the looser event below is in force whole at its start (the ramp is
  // tested in utility-ramp-system; with one, the limit in force and counted here would rise at it).
  const utility = await startUtilityServer({ clock, defaults: { opModExpLimW: 1500, opModGenLimW: 4000, opModImpLimW: 2000 }, events: [], setGradW: 0 });
  // No controller: the flows stay as the physics make them.
  const config = sunSpecPvSiteConfig({ id: 'cmp', dir, inverterPort: inverter.listener.port, ratedW: PV_W, csip: utility.csip, controllers: [] });
  const start = (): Promise<RunningSystem> => startSystem({ config, adminPassword: PASSWORD, clock, logger: pino({ level: 'silent' }) });
  let sys = await start();
  t.after(async () => {
    await sys.close();
    await utility.close();
    await inverter.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = httpClient(() => sys.url);
  let token = await api.login('admin', PASSWORD);
  const status = async (): Promise<UtilityStatus> => utilityStatusSchema.parse((await api.call('GET', '/api/utility', { token })).json);
  const row = (s: UtilityStatus, q: string) => s.compliance.find((c) => c.quantity === q);

  const image = (c: string): number | null | undefined => sys.site.image.get(c, 'ActivePower')?.value;
  await until('the defaults are in force and the flows steady', async () => {
    const s = await status();
    return row(s, 'export')?.limitW === 1500 && Math.abs((image('grid') ?? NaN) + EXPORT_W) <= 1 && Math.abs((image('pv0') ?? NaN) - PV_W) <= 1;
  });
  // Counted from here on, the flows are constant: the figures grow by what the numbers say.
  await sleep(1000);
  const a = await status();
  await sleep(4000);
  const s = await status();
  const exp = row(s, 'export');
  const gen = row(s, 'generation');
  const imp = row(s, 'import');
  const exp0 = row(a, 'export');
  const gen0 = row(a, 'generation');
  const imp0 = row(a, 'import');
  assert.ok(exp && gen && imp && exp0 && gen0 && imp0, JSON.stringify(s.compliance));
  assert.equal(row(s, 'load'), undefined, 'no load limit, no load row');
  assert.ok(Math.abs((exp.measuredW ?? NaN) - EXPORT_W) <= 1 && Math.abs((gen.measuredW ?? NaN) - PV_W) <= 1 && imp.measuredW === 0);
  // Export: 2.5 kW above the limit the whole time.
  const aboveS = exp.today.aboveS - exp0.today.aboveS;
  assert.ok(aboveS >= 3, `export above for ${aboveS} s more`);
  assert.equal(exp.today.withinS, exp0.today.withinS, 'never within meanwhile');
  assert.ok(Math.abs(exp.today.maxExcessW - (EXPORT_W - 1500)) <= 1, `largest export excess ${exp.today.maxExcessW} W`);
  const wh = exp.today.excessWh - exp0.today.excessWh;
  assert.ok(Math.abs(wh - ((EXPORT_W - 1500) * aboveS) / 3600) <= 0.01, `export energy above ${wh} Wh in ${aboveS} s`);
  // Generation: 1 kW above its limit.
  const genAboveS = gen.today.aboveS - gen0.today.aboveS;
  assert.ok(genAboveS >= 3);
  assert.ok(Math.abs(gen.today.maxExcessW - (PV_W - 4000)) <= 1, `largest generation excess ${gen.today.maxExcessW} W`);
  assert.ok(Math.abs(gen.today.excessWh - gen0.today.excessWh - ((PV_W - 4000) * genAboveS) / 3600) <= 0.01);
  // Import: nothing imported, within all along.
  assert.equal(imp.today.aboveS, 0);
  assert.ok(imp.today.withinS - imp0.today.withinS >= 3);
  assert.deepEqual(imp.today, { ...imp.today, excessWh: 0, maxExcessW: 0, maxExcessAt: null });
  assert.deepEqual(exp.last7Days, exp.today, 'one day so far: the week is today');
  // The rest of the panel: the certificate (openssl, ten years) and the link.
  assert.equal(s.device.certSubject, 'CN=device');
  assert.equal(s.device.certDaysLeft, Math.floor((s.device.certExpiresAt - s.now) / 86_400_000));
  assert.ok(s.device.certDaysLeft > 3000);
  assert.ok(s.server.reachable && s.server.lastContactAt !== null && s.server.lastContactAt <= s.now && s.now - s.server.lastContactAt < 5000);
  assert.equal(exp.lastEvent, null);

  // An event of 4.5 kW export: the 4 kW exported is within it at once.
  const nowS = Math.floor(clock() / 1000);
  utility.setEvents([{ mRID: 'C1', start: nowS + 2, duration: 600, creationTime: nowS - 60, base: { opModExpLimW: 4500 } }]);
  const during = await until('the event is in force and met', async () => {
    const x = await status();
    return row(x, 'export')?.lastEvent?.metAt != null;
  }).then(status);
  const ev = row(during, 'export')?.lastEvent;
  assert.ok(ev);
  assert.equal(ev.eventMRID, 'C1');
  assert.equal(ev.limitW, 4500);
  assert.ok(
    ev.tookMs !== null && ev.tookMs <= 2 * 250 + 1000,
    `met ${ev.tookMs} ms after its start (one evaluation, 250 ms, plus the second the server's time rounds off)`,
  );
  assert.deepEqual(
    during.limits.find((l) => l.quantity === 'opModExpLimW'),
    { quantity: 'opModExpLimW', value: 4500, source: { kind: 'event', eventMRID: 'C1', programMRID: 'A1'.padStart(32, '0'), primacy: 1 } },
  );

  // A restart on the same database: what was counted comes back, and counting goes on.
  const before = row(await status(), 'export');
  assert.ok(before);
  await sys.close();
  sys = await start();
  token = await api.login('admin', PASSWORD);
  const after = row(await status(), 'export');
  assert.ok(after);
  // Saved when the system closed, after the figures read before it: nothing lost.
  assert.ok(after.today.aboveS >= before.today.aboveS, `above ${after.today.aboveS} s after the restart, ${before.today.aboveS} s before`);
  assert.ok(Math.abs(after.today.maxExcessW - (EXPORT_W - 1500)) <= 1, 'the largest excess survives the restart');
  assert.equal(after.lastEvent?.eventMRID, 'C1');
  assert.equal(after.lastEvent.metAt, ev.metAt);
});

test('GET /api/utility without a csip section says so; a viewer can read it', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-compliance-'));
  const sys = await startSystem({
    config: {
      site: { id: 'nocsip', name: 'No utility', timezone: 'Africa/Kampala' },
      storage: { path: path.join(dir, 'mgos.db') },
      http: { host: '127.0.0.1', port: 0 },
      buses: [],
    },
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
  });
  t.after(async () => {
    await sys.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = httpClient(() => sys.url);
  const admin = await api.login('admin', PASSWORD);
  const created = await api.call('POST', '/api/users', { token: admin, body: { username: 'vera_viewer', password: 'viewer-pass-1234', role: 'viewer' } });
  assert.equal(created.status, 200, created.text);
  const viewer = await api.login('vera_viewer', 'viewer-pass-1234');
  const r = await api.call('GET', '/api/utility', { token: viewer });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(utilityAnswerSchema.parse(r.json), { configured: false });
});
