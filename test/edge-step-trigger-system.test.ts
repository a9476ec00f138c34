import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSETS, sleep, startControlSite, until } from './helpers/control-site.js';

// The step trigger through the real cycle (src/edge/step-trigger.ts): the control devices are read every
// 250 ms over Modbus TCP, and a load step in one of those reads starts the cycle at once instead of at the
// next 1 s slot; the battery's own response to that cycle's setpoint starts no further cycles.
const POLL_MS = 250;
const MIN_SPACING_MS = 250;

test('a load step starts the cycle within about one poll, never sooner than the minimum spacing, and the grid settles without export', async (t) => {
  const s = await startControlSite({
    control: {
      pollMs: POLL_MS,
      stepTrigger: { thresholdW: 300, minSpacingMs: MIN_SPACING_MS },
      assets: ASSETS.filter((a) => a.type !== 'pv'),
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        { kind: 'zero-export', id: 'zero' },
      ],
      safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
    },
    // The battery charges from PV, so a 2.5 kW load step on L1 is within its 2 kW-per-phase swing.
    pv: { L1: 1500, L2: 1500, L3: 1500 },
  });
  t.after(() => s.close());
  const cycle = s.sys.control?.cycle;
  assert.ok(cycle);
  await until('the cycle steers with good data', () => s.cycles() >= 3 && (s.sys.control?.status().safe as unknown[]).length === 0);
  await until('the battery charges from PV and the grid is near zero', () => s.setpoints().L1 < -500 && Math.abs(s.grid().total) < 300, 15_000);
  await sleep(2000);
  const starts: number[] = [];
  const off = cycle.timing.subscribe((durationMs) => starts.push(performance.now() - durationMs));
  t.after(off);
  const earlyBefore = cycle.timing.early;
  s.sys.sim?.model.update();
  s.sys.sim?.model.setLoadOverride(2, { watts: 2500, powerFactor: 0.98 });
  const stepAt = performance.now();
  const worstExport: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    const g = s.grid();
    worstExport.push(Math.min(g.L1, g.L2, g.L3));
    await sleep(100);
  }
  const first = starts.find((x) => x >= stepAt);
  assert.ok(first !== undefined, 'a cycle ran after the step');
  const early = cycle.timing.early - earlyBefore;
  // A slot of the 1 s grid would come 0-1000 ms after the step; a poll every 250 ms sees it within ~250 ms.
  assert.ok(early >= 1, `the step started a cycle early (${early} early cycles)`);
  assert.ok(early <= 2, `the battery's response to it started no chain of cycles (${early} early cycles in 5 s)`);
  assert.ok(first - stepAt < POLL_MS + 300, `the first cycle started ${Math.round(first - stepAt)} ms after the step`);
  const gaps = starts.slice(1).map((x, i) => x - (starts[i] ?? 0));
  assert.ok(Math.min(...gaps) >= MIN_SPACING_MS - 5, `cycles at least ${MIN_SPACING_MS} ms apart (closest ${Math.round(Math.min(...gaps))} ms)`);
  const g = s.grid();
  assert.ok(Math.abs(g.L1) < 150, `L1 back near zero 5 s after the step: ${Math.round(g.L1)} W`);
  assert.ok(Math.min(...worstExport) > -60, `no phase exports on the way (worst ${Math.round(Math.min(...worstExport))} W): no overshoot`);
  const api = await s.call('GET', '/api/control');
  assert.equal(api.status, 200);
  const timing = api.json.timing as { early: number };
  assert.ok(timing.early >= earlyBefore + early, `GET /api/control reports the early cycles (${timing.early})`);
});
