import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockStartingAt } from '../src/util/clock.js';
import { ASSETS, cyclesPass, NOON, startControlSite, until } from './helpers/control-site.js';
import { startUtilityServer } from './helpers/utility-server.js';

// Closed loop through the real protocols (issue 11, the utility's load limit): the 2030.5 test server
// (HTTPS, mTLS) sends an opModLoadLimW event; the simulator's customer meters, grid meter, battery and
// relays are read and switched over Modbus TCP by the edge cycle. A load step takes the site's
// consumption over the limit with no EV or battery charging to cut: the utility-limits controller
// opens the non-critical relay (through governance, audited), never the critical one; the limit lifted,
// the relay closes again.

const BATTERY_ONLY = ASSETS.filter((a) => a.type !== 'pv');
const LIMIT = 3000;
const STEP_W = 3500;

test("load limit over Modbus: the site's consumption above opModLoadLimW sheds the non-critical relay, never the critical one; lifted, it closes again", async (t) => {
  const clock = clockStartingAt(NOON);
  const nowS = Math.floor(clock() / 1000);
  const event = { mRID: 'D1', start: nowS - 10, duration: 3600, creationTime: nowS - 60, base: { opModLoadLimW: LIMIT } };
  const utility = await startUtilityServer({ clock, defaults: { opModLoadLimW: 50_000 }, events: [event], setGradW: 0 });
  t.after(() => utility.close());
  const s = await startControlSite({
    relays: true,
    control: {
      assets: BATTERY_ONLY,
      controllers: [
        // restoreMarginW above the shed load, so the relay does not close under the event and trip it again.
        { kind: 'utility-limits', id: 'utility', shedAfterMs: 2000, restoreAfterMs: 3000, restoreMarginW: STEP_W + 100 },
      ],
      safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
      shedding: [{ meter: 2 }, { meter: 3, critical: true }, { meter: 4 }],
    },
    extra: { csip: { ...utility.csip } },
  });
  t.after(() => s.close());
  const control = s.sys.control;
  const model = s.sys.sim?.model;
  assert.ok(control && model);
  const relays = s.sys.billing.relays;
  const status = (): { state: string; text: string } => {
    const st = (control.status().controllers as Array<{ id: string; status: { state: string; detail?: string; reason?: string } }>).find(
      (c) => c.id === 'utility',
    )?.status;
    return { state: st?.state ?? 'missing', text: st?.detail ?? st?.reason ?? '' };
  };
  /** The site load as the controller sees it (grid + battery discharge; no PV asset). */
  const siteLoad = (): number => {
    const bat = s.sys.site.image.get('ess0', 'ActivePower')?.value ?? 0;
    return s.grid().total + Math.max(0, bat);
  };
  await until('the load limit is in force and the cycle steers with good data', () => {
    const v = s.sys.site.image.get('utility', 'LoadLimitW');
    return v?.value === LIMIT && s.cycles() >= 3 && (control.status().safe as unknown[]).length === 0;
  });
  const before = siteLoad();
  assert.ok(before < LIMIT - 500, `the site consumes ${Math.round(before)} W before the step`);
  assert.equal(await relays.state(2), 'closed');
  assert.equal(await relays.state(3), 'closed');

  // A 3.5 kW load on meter 2 (non-critical): over the limit, nothing to cut but the load itself.
  model.setLoadOverride(2, { watts: STEP_W, powerFactor: 0.98 });
  await until('the controller sees the site over its load limit', () => /of site load above the utility's load limit/.test(status().text), 15_000).catch(
    (e: unknown) => assert.fail(`${String(e)}: ${status().state}: ${status().text}; site load ${Math.round(siteLoad())} W`),
  );
  t.diagnostic(`over: ${status().text}`);
  await until('the non-critical relay opens', async () => (await relays.state(2)) === 'open', 20_000);
  assert.equal(await relays.state(3), 'closed', 'the critical load keeps its supply');
  await cyclesPass(s, 3);
  const after = siteLoad();
  assert.ok(after <= LIMIT, `the site load is back under the limit: ${Math.round(after)} W`);
  assert.equal(await relays.state(2), 'open', 'held open under the event (the restore margin)');
  assert.equal(status().state, 'ok', status().text);
  assert.match(status().text, /shed relay2/);
  t.diagnostic(`shed: ${status().text}; site load ${Math.round(before)} W before, ${Math.round(after)} W after`);

  // The utility lifts the limit (back to its 50 kW default): the relay closes after restoreAfterMs.
  utility.setEvents([]);
  await until('the relay closes again', async () => (await relays.state(2)) === 'closed', 20_000);
  assert.equal(await relays.state(3), 'closed');

  // Through the cycle's audit like every action: the chain verifies and holds the relay's writes.
  const audit = await s.call('GET', '/api/control/audit?verify=1&limit=500');
  assert.equal((audit.json.verification as { ok: boolean }).ok, true);
  const text = JSON.stringify(audit.json);
  assert.match(text, /relay2\/SetClosed/, 'the relay actions are in the audit log');
  const alarms = s.sys.alarms.store.list({ state: 'open' }).map((a) => `${a.rule} ${a.message}`);
  assert.ok(!alarms.some((a) => /control_dispatch/.test(a)), `no dispatch or read-back failure: ${alarms.join('; ')}`);
});
