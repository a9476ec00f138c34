import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { serveSunSpecDevice } from '../src/sim/sunspec-device.js';
import { startSystem } from '../src/system.js';
import { clockStartingAt } from '../src/util/clock.js';
import { NOON, sleep, until } from './helpers/control-site.js';
import { startUtilityServer, sunSpecPvSiteConfig } from './helpers/utility-server.js';

// The utility's ramp closed loop (issue 11): the 2030.5 test server (HTTPS, mTLS), the site's client and
// ramp (src/csip/ramp.ts) writing utility/*, the utility-limits controller curtailing a SunSpec inverter
// over Modbus TCP, the connection point read from the inverter's meter. A raise from 1.5 kW to 5 kW
// rises at setGradW (10 %/s of the 5 kW rating = 500 W/s) and export follows it; the gap after that
// event lowers the limit (met within 2 cycles), and the next event brings it back without a ramp.

const LOAD = [400, 300, 300] as const;
const LOAD_W = LOAD[0] + LOAD[1] + LOAD[2];
const PV_W = 5000;
const LOW_W = 1500;
const HIGH_W = 5000;
const RATE_W_PER_S = 500; // setGradW 1000 = 10 %/s of 5 kW
const tolerance = (w: number): number => Math.min(0.04 * w, 100);

test('ramp: a raise follows setGradW, a lower limit is met within 2 cycles, a gap between events is not ramped back', async (t) => {
  const clock = clockStartingAt(NOON);
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-ramp-'));
  const inverter = await serveSunSpecDevice({ kind: 'legacy', clock, ratingW: PV_W, availableW: () => PV_W, loadW: () => LOAD });
  const S = Math.floor(clock() / 1000) + 8;
  const utility = await startUtilityServer({
    clock,
    defaults: { opModExpLimW: LOW_W },
    setGradW: 1000,
    events: [
      { mRID: 'E1', start: S, duration: 12, creationTime: S - 60, base: { opModExpLimW: HIGH_W } },
      // A 3 s gap, as servers that leave gaps between events send them.
      { mRID: 'E2', start: S + 15, duration: 12, creationTime: S - 60, base: { opModExpLimW: HIGH_W } },
    ],
  });
  const sys = await startSystem({
    config: sunSpecPvSiteConfig({
      id: 'ramp',
      dir,
      inverterPort: inverter.listener.port,
      ratedW: PV_W,
      csip: utility.csip,
      controllers: [{ kind: 'utility-limits', id: 'utility' }],
    }),
    adminPassword: 'ramp-test-password-1',
    clock,
    logger: pino({ level: 'silent' }),
  });
  t.after(async () => {
    await sys.close();
    await utility.close();
    await inverter.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const exportW = (): number => inverter.device.activePowerW - LOAD_W;
  const limitW = (): number => sys.site.image.get('utility', 'ExportLimitW')?.value ?? NaN;
  const source = (): number | null | undefined => sys.site.image.get('utility', 'ExportLimitWSource')?.value;
  const cycles = (): number => sys.control?.cycle.timing.cycles ?? 0;

  await until('the default (1.5 kW) is in force and met', () => limitW() === LOW_W && Math.abs(exportW() - LOW_W) <= tolerance(LOW_W) + 50, 15_000);
  assert.equal(sys.utility?.appliedSetGradW(), 1000, 'the site applies the server setGradW (its DERSettings say so)');

  // 1. E1 raises the limit to 5 kW: it rises at 500 W/s, and the export follows under it.
  await until('E1 starts', () => clock() >= S * 1000, 15_000);
  const raise: { t: number; limit: number; exp: number }[] = [];
  // Until 3 s before E1's end: the gap's lower default is applied 2 s ahead (csip.ramp.anticipateS).
  while (clock() < (S + 9) * 1000) {
    raise.push({ t: (clock() - S * 1000) / 1000, limit: limitW(), exp: exportW() });
    await sleep(100);
  }
  for (const r of raise) {
    const ramp = LOW_W + RATE_W_PER_S * Math.max(0, r.t) + 10;
    assert.ok(r.limit <= ramp, `at ${r.t.toFixed(1)} s the limit is ${Math.round(r.limit)} W, above the ramp's ${Math.round(ramp)} W`);
    assert.ok(r.exp <= ramp + tolerance(ramp), `at ${r.t.toFixed(1)} s the export is ${Math.round(r.exp)} W, above the ramp's ${Math.round(ramp)} W`);
  }
  const between = raise.filter((r) => r.exp > 2000 && r.exp < 3500).length;
  assert.ok(between >= 5, `the export passed through 2-3.5 kW gradually (${between} samples there), it did not jump`);
  const top = raise[raise.length - 1];
  assert.ok(
    top && top.limit === HIGH_W && top.exp >= PV_W - LOAD_W - 150,
    `at the end of the ramp: limit ${top?.limit} W, export ${Math.round(top?.exp ?? 0)} W`,
  );
  t.diagnostic(
    `raise: ${raise
      .filter((_, i) => i % 10 === 0)
      .map((r) => `${r.t.toFixed(1)} s ${Math.round(r.limit)}/${Math.round(r.exp)} W`)
      .join(', ')}`,
  );

  // 2. E1 ends: the gap's default (1.5 kW) is lower, met within 2 cycles of its start (applied 2 s ahead).
  await until('E1 ends', () => clock() >= (S + 12) * 1000, 15_000);
  const atGap = cycles();
  await until('the gap default is met', () => exportW() <= LOW_W + tolerance(LOW_W), 10_000);
  const lowered = cycles() - atGap;
  assert.ok(lowered <= 2, `a lower limit met within ${lowered} cycles`);
  assert.equal(source(), 2, 'the default is in force in the gap');

  // 3. E2 starts 3 s later: back to 5 kW at once, not at 500 W/s (which would take 7 s).
  await until('E2 starts', () => source() === 1, 15_000);
  assert.equal(limitW(), HIGH_W, 'the limit comes back whole at the first evaluation of E2');
  const atE2 = cycles();
  await until('export back to what PV gives', () => exportW() >= PV_W - LOAD_W - 150, 10_000);
  const back = cycles() - atE2;
  assert.ok(back <= 3, `export back within ${back} cycles (a ramp would take 7)`);
  t.diagnostic(`lower limit met in ${lowered} cycles; after the gap export back in ${back} cycles`);
});
