import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { httpClient } from './helpers/http.js';

/**
 * Quarantined intervals and meter replacements over HTTP, through the running system (issue 8 §2): an
 * operator lists and resolves them (accept, set, zero; once each), a viewer cannot, an installer records
 * a replacement that resolves the interval it explains, and one that contradicts the stored readings is
 * refused with a sentence. The clock is injected at a fixed morning; nothing depends on today's date.
 */
const PASSWORD = 'quarantine admin password';
const NOW = Date.UTC(2026, 2, 11, 7, 0, 0); // Wednesday 10:00 in Kampala
const T0 = NOW - 3 * 3_600_000; // aligned to a quarter hour
const MIN = 60_000;
const METER = 'meter9'; // not polled: only the readings written below

/** 600 W (0.01 kWh a minute); the counter steps back at minutes 40, 70, 100 and 110, each a fault. */
function counterAt(k: number): number {
  if (k < 40) return 3000 + 0.01 * k;
  if (k < 70) return 212 + 0.01 * (k - 40);
  if (k < 100) return 150 + 0.01 * (k - 70);
  if (k < 110) return 100 + 0.01 * (k - 100);
  return 50 + 0.01 * (k - 110);
}

test(
  'quarantine over HTTP: list, resolve once (accept, set, zero), roles; a replacement resolves what it explains, a contradicting one is refused',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mgos-quarantine-http-'));
    let sys: RunningSystem | undefined;
    const http = httpClient(() => sys?.url ?? '');
    try {
      const clock = clockStartingAt(NOW);
      sys = await startSystem({
        config: {
          site: { id: 'quarantine', name: 'Quarantine', timezone: 'Africa/Kampala' },
          storage: { path: path.join(dir, 'mgos.db') },
          http: { port: 0 },
          sim: { enabled: true, customers: 1, port: 0 },
        },
        adminPassword: PASSWORD,
        clock,
        simClock: clockStartingAt(clock()),
        logger: pino({ level: 'silent' }),
      });
      const admin = await http.login('admin', PASSWORD);
      for (const [username, role] of [
        ['olivia', 'operator'],
        ['ian', 'installer'],
        ['vera', 'viewer'],
      ] as const) {
        const r = await http.call('POST', '/api/users', { token: admin, body: { username, password: `${username} password 1`, role } });
        assert.equal(r.status, 200, r.text);
      }
      const [operator, installer, viewer] = await Promise.all(['olivia', 'ian', 'vera'].map((u) => http.login(u, `${u} password 1`)));
      const as = (token: string | undefined) => (method: string, url: string, body?: unknown) => http.call(method, url, { ...(token ? { token } : {}), body });
      const op = as(operator);

      // Two hours of minute readings with four backwards steps, written through the system's recorder.
      for (let k = 0; k <= 120; k++) sys.recorder.add({ key: METER, ts: T0 + k * MIN, values: { ActivePower: 600, EnergyImport: counterAt(k) }, periodMs: {} });
      sys.recorder.flushAndBuild();

      let r = await as(viewer)('GET', `/api/quarantine?meter=${METER}`);
      assert.equal(r.status, 200, r.text);
      const listed = r.json.intervals as Array<{ meter: string; startMs: number; reason: string; suspectImportKWh: number | null }>;
      assert.deepEqual(
        listed.map((q) => (q.startMs - T0) / MIN),
        [30, 60, 90, 105],
      );
      assert.ok(listed.every((q) => q.meter === METER));
      assert.match(listed[0]?.reason ?? '', /^the import counter stepped back from 3000\.39 to 212\.00 kWh at .*; a meter replacement is never assumed$/);
      assert.equal((await as(undefined)('GET', '/api/quarantine')).status, 401);
      const at = (minute: number) => `/api/meters/${METER}/quarantine/${T0 + minute * MIN}`;

      // A viewer may look but not decide.
      r = await as(viewer)('POST', `${at(60)}/resolve`, { action: 'accept', why: 'looks fine to me' });
      assert.equal(r.status, 403, r.text);
      assert.match(String(r.json.error), /needs the operator role; you are viewer/);

      // Refusals are sentences: set needs the energy, a reason is needed.
      r = await op('POST', `${at(90)}/resolve`, { action: 'set', why: 'counter fault, customer drew 600 W' });
      assert.equal(r.status, 400, r.text);
      assert.match(String(r.json.error), /^importKWh: action "set" needs the corrected energy; found nothing; allowed: a number of kWh from 0 to 1000000$/);
      r = await op('POST', `${at(90)}/resolve`, { action: 'zero', why: '' });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'why: a reason of 3 to 500 characters is needed; found ""');
      r = await op('POST', `${at(90)}/resolve`, { action: 'delete', importKWh: -1, why: 'not a resolution' });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'action: must be accept, set or zero; found "delete"; importKWh: must not be negative; found -1');

      // The operator resolves three: accept as read, set, zero. Each answers who, when and why.
      const suspect60 = listed.find((q) => q.startMs === T0 + 60 * MIN)?.suspectImportKWh;
      assert.equal(typeof suspect60, 'number');
      const decisions = [
        [60, { action: 'accept', why: 'meter reset by the technician; what it counted is right' }, suspect60],
        [90, { action: 'set', importKWh: 0.15, why: 'counter fault; the customer drew 600 W throughout' }, 0.15],
        [105, { action: 'zero', why: 'the shop was closed; nothing was drawn' }, 0],
      ] as const;
      for (const [minute, body, importKWh] of decisions) {
        r = await op('POST', `${at(minute)}/resolve`, body);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(
          { action: r.json.action, importKWh: r.json.importKWh, by: r.json.by, atMs: typeof r.json.atMs, why: r.json.why },
          { action: body.action, importKWh, by: 'olivia', atMs: 'number', why: body.why },
        );
        assert.ok(Math.abs((r.json.atMs as number) - clock()) < 60_000, 'resolved at the system clock');
      }
      // Once only: a second resolution is a conflict, also for an interval that was never quarantined.
      r = await op('POST', `${at(90)}/resolve`, { action: 'zero', why: 'changed my mind' });
      assert.equal(r.status, 409, r.text);
      assert.match(String(r.json.error), /is already resolved; only a quarantined interval can be resolved, once/);
      r = await op('POST', `${at(0)}/resolve`, { action: 'accept', why: 'just checking' });
      assert.equal(r.status, 409, r.text);
      assert.match(String(r.json.error), /is not quarantined/);
      assert.equal((await op('POST', `/api/meters/meter99/quarantine/${T0}/resolve`, { action: 'accept', why: 'no such meter' })).status, 404);
      // The audit: how the one set by hand was resolved; the history now bills it.
      r = await as(viewer)('GET', at(90));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.json.action, r.json.importKWh, r.json.by], ['set', 0.15, 'olivia']);
      assert.deepEqual(
        ((await op('GET', `/api/quarantine?meter=${METER}`)).json.intervals as Array<{ startMs: number }>).map((q) => (q.startMs - T0) / MIN),
        [30],
      );

      // The swap at minute 40 as an inventory event: only an installer records it, and it resolves the
      // interval it explains (0.15 kWh: 3000.30 -> 3000.40 on the old meter, 212.00 -> 212.05 on the new).
      const swap = {
        at: new Date(T0 + 40 * MIN).toISOString(),
        oldSerial: '200322016690',
        newSerial: '200322016691',
        oldFinalImportKWh: 3000.4,
        newFirstImportKWh: 212,
        why: 'meter burnt; replaced by the field team',
      };
      r = await op('POST', `/api/meters/${METER}/replacements`, swap);
      assert.equal(r.status, 403, r.text);
      r = await as(installer)('POST', `/api/meters/${METER}/replacements`, swap);
      assert.equal(r.status, 200, r.text);
      const recorded = r.json as {
        replacement: { id: number; by: string; oldFinalImportKWh: number };
        resolved: Array<{ startMs: number; action: string; importKWh: number; by: string }>;
      };
      assert.deepEqual([recorded.replacement.by, recorded.replacement.oldFinalImportKWh], ['ian', 3000.4]);
      assert.equal(recorded.resolved.length, 1);
      const [resolved] = recorded.resolved;
      assert.ok(resolved);
      assert.deepEqual([(resolved.startMs - T0) / MIN, resolved.action, resolved.by], [30, 'replacement', 'ian']);
      assert.ok(Math.abs(resolved.importKWh - 0.15) < 1e-6, `${resolved.importKWh} kWh across the swap`);
      assert.deepEqual((await op('GET', '/api/quarantine')).json.intervals, [], 'nothing is left for a person');

      // Contradicting replacements are refused with a sentence and store nothing.
      r = await as(installer)('POST', `/api/meters/${METER}/replacements`, {
        ...swap,
        at: new Date(T0 + 70 * MIN).toISOString(),
        oldFinalImportKWh: 100,
        newFirstImportKWh: 150,
      });
      assert.equal(r.status, 400, r.text);
      assert.match(
        String(r.json.error),
        /^oldFinalImportKWh: found 100 kWh, but the old meter already showed 212\.29 kWh at .*; allowed: its final reading, at least that$/,
      );
      r = await as(installer)('POST', `/api/meters/${METER}/replacements`, {
        ...swap,
        at: new Date(T0 + 70 * MIN).toISOString(),
        oldFinalImportKWh: 212.3,
        newFirstImportKWh: 180,
      });
      assert.equal(r.status, 400, r.text);
      assert.match(
        String(r.json.error),
        /^newFirstImportKWh: found 180 kWh, but the new meter showed 150 kWh at .*; allowed: its first reading, at most that$/,
      );
      r = await as(installer)('POST', `/api/meters/${METER}/replacements`, swap);
      assert.equal(r.status, 409, r.text);
      assert.match(String(r.json.error), /^at: a replacement of meter9 at .* is already recorded$/);
      r = await as(installer)('POST', `/api/meters/${METER}/replacements`, { ...swap, at: 'yesterday', oldFinalImportKWh: 'lots' });
      assert.equal(r.status, 400, r.text);
      assert.equal(
        r.json.error,
        'at: must be the time of the swap (ISO 8601 or unix ms); found "yesterday"; oldFinalImportKWh: must be a counter reading in kWh from 0 to 99999999; found "lots"',
      );
      r = await as(installer)('POST', `/api/meters/${METER}/replacements`, { ...swap, at: new Date(clock() + 3_600_000).toISOString() });
      assert.equal(r.status, 400, r.text);
      assert.match(String(r.json.error), /^at: found .*, which is in the future; allowed: a time up to now/);
      r = await as(viewer)('GET', `/api/meters/${METER}/replacements`);
      assert.deepEqual(
        (r.json.replacements as Array<{ id: number }>).map((x) => x.id),
        [recorded.replacement.id],
      );
    } finally {
      await sys?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
