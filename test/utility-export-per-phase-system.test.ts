import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockStartingAt } from '../src/util/clock.js';
import { ASSETS, NOON, sleep, startControlSite, until } from './helpers/control-site.js';
import { startUtilityServer } from './helpers/utility-server.js';

// Closed loop of the per-phase export limit (issue 11, SA Power Networks' flexible export per phase):
// the utility's 2030.5 server (HTTPS, mTLS) sends 1.5 kW, the site's exportPerPhase holds each phase to
// a third of it. PV is unbalanced (3 kW on L1, 1 kW on L2 and L3), the hybrid inverter's battery takes
// each phase's excess through per-phase setpoints over Modbus, and each phase is read at the simulated
// grid meter. One symmetric setpoint (OpenEMS-style, worst phase × 3) would either let L1 export or
// curtail L2 and L3 needlessly: here every phase is at its share and the site still exports its 1.5 kW.

const LIMIT_W = 1500;
const SHARE_W = LIMIT_W / 3;
/** The lower of 4 % and 100 W (the utility's measurement accuracy). */
const tolerance = (w: number): number => Math.min(0.04 * w, 100);
const PHASES = ['L1', 'L2', 'L3'] as const;

test('per-phase export limit: 1.5 kW as 500 W a phase with unbalanced PV; no phase above its share, the site still exports its limit', async (t) => {
  const serverClock = clockStartingAt(NOON);
  const startS = Math.floor(serverClock() / 1000) + 15;
  const utility = await startUtilityServer({
    clock: serverClock,
    defaults: { opModExpLimW: 10_000 },
    events: [{ mRID: 'E1', start: startS, duration: 600, creationTime: startS - 600, base: { opModExpLimW: LIMIT_W } }],
  });
  const s = await startControlSite({
    control: { assets: ASSETS, controllers: [{ kind: 'utility-limits', id: 'utility', exportPerPhase: true }] },
    pv: { L1: 3000, L2: 1000, L3: 1000 },
    extra: { csip: utility.csip },
  });
  t.after(async () => {
    await s.close();
    await utility.close();
  });
  const limit = (): number | null | undefined => s.sys.site.image.get('utility', 'ExportLimitW')?.value;
  const why = (): string =>
    `grid ${JSON.stringify(s.grid())}; setpoints ${JSON.stringify(s.setpoints())}; controllers ${JSON.stringify(s.sys.control?.status().controllers)}`;

  // Before the event (10 kW default): L1 exports well above 500 W.
  await until('the default limit is in force', () => limit() === 10_000, 30_000);
  await sleep(3000);
  const free = s.grid();
  assert.ok(-free.L1 > SHARE_W + 500, `L1 exports ${Math.round(-free.L1)} W before the event: ${why()}`);

  await until('the event limit is in force', () => limit() === LIMIT_W, 40_000);
  // Allow the settle (a few cycles), then hold: every sample for 8 s within each phase's share.
  await sleep(5000);
  const samples: { L1: number; L2: number; L3: number; total: number }[] = [];
  for (let i = 0; i < 32; i++) {
    samples.push(s.grid());
    await sleep(250);
  }
  for (const p of PHASES) {
    const worst = Math.max(...samples.map((x) => -x[p]));
    assert.ok(worst <= SHARE_W + tolerance(SHARE_W), `${p} exported at most ${Math.round(worst)} W (share ${SHARE_W} W): ${why()}`);
  }
  // Not over-curtailed: the site exports close to its whole limit (each phase near its share).
  const meanExport = -samples.reduce((n, x) => n + x.total, 0) / samples.length;
  assert.ok(meanExport >= LIMIT_W - 300, `the site exports ${Math.round(meanExport)} W of its ${LIMIT_W} W: ${why()}`);
  const sp = s.setpoints();
  assert.ok(sp.L1 < sp.L2 - 500, `L1's battery setpoint charges more than L2's: ${JSON.stringify(sp)}`);
  t.diagnostic(
    `per phase at 1.5 kW: worst export ${PHASES.map((p) => `${p} ${Math.round(Math.max(...samples.map((x) => -x[p])))} W`).join(', ')}; mean site export ${Math.round(meanExport)} W; setpoints ${JSON.stringify(sp)}`,
  );
});
