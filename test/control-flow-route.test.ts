import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSETS, DEVICES, startControlSite, until } from './helpers/control-site.js';

interface V {
  value: number;
  ts: number;
  quality: string;
}
interface Power {
  component: string;
  total: V | null;
  phases: Record<'L1' | 'L2' | 'L3', V | null>;
}
interface Flow {
  now: number;
  grid: Power | null;
  batteries: Array<Power & { soc: V | null }>;
  pv: Power[];
  generators: Array<Power & { running: V | null }>;
  load: { total: V | null; phases: Record<'L1' | 'L2' | 'L3', V | null> } | null;
}

test('GET /api/control/flow: grid, battery, PV and generator per phase with quality; the load derived from them; a silent grid meter spoils the load', async (t) => {
  const s = await startControlSite({
    control: {
      devices: [...DEVICES, { component: 'gen0', profile: 'GENERIC-GENSET', bus: 'energy', address: 2 }],
      assets: [...ASSETS, { type: 'generator', component: 'gen0', ratedW: 8000 }],
      controllers: [{ kind: 'passive', id: 'watch' }],
    },
    energy: { generatorW: 8000 },
    pv: { L1: 1200, L2: 900, L3: 600 },
  });
  t.after(() => s.close());
  let f: Flow | undefined;
  await until('every component has good values', async () => {
    const r = await s.call('GET', '/api/control/flow');
    assert.equal(r.status, 200, r.text);
    f = r.json as unknown as Flow;
    return (
      f.grid?.phases.L1?.quality === 'GOOD' &&
      f.batteries[0]?.soc?.quality === 'GOOD' &&
      f.pv[0]?.phases.L1?.quality === 'GOOD' &&
      f.generators[0]?.running?.quality === 'GOOD' &&
      f.load?.phases.L1?.quality === 'GOOD'
    );
  });
  assert.ok(f?.grid && f.load);
  const [ess] = f.batteries;
  const [pv] = f.pv;
  const [gen] = f.generators;
  assert.ok(ess && pv && gen);
  assert.equal(ess.component, 'ess0');
  assert.ok(Math.abs((ess.soc?.value ?? 0) - 60) < 2, `SoC about 60 %: ${ess.soc?.value}`);
  assert.ok((pv.phases.L1?.value ?? 0) > 500, `PV produces on L1 (production positive): ${pv.phases.L1?.value}`);
  for (const p of ['L1', 'L2', 'L3'] as const) {
    const parts: number[] = [f.grid.phases[p], ess.phases[p], pv.phases[p], gen.phases[p]].map((v) => v?.value ?? NaN);
    const load: V | null = f.load.phases[p];
    assert.ok(load, `load on ${p}`);
    assert.equal(
      load.value,
      parts.reduce((a, b) => a + b, 0),
      `load ${p} = grid + battery + pv + generator`,
    );
    assert.equal(load.ts, Math.min(...[f.grid.phases[p], ess.phases[p], pv.phases[p], gen.phases[p]].map((v) => v?.ts ?? NaN)), 'as old as its oldest part');
  }
  assert.ok(Math.abs(f.now - s.clock()) < 5_000, 'now is the site clock');

  // The audit log pages back from the newest entries (beforeId).
  for (const minutes of [1, 2, 3]) {
    assert.equal((await s.call('POST', '/api/control/override', { asset: 'ess0', mode: 'idle', minutes, reason: `paging ${minutes}` })).status, 200);
    assert.equal((await s.call('DELETE', '/api/control/override/ess0?reason=done')).status, 200);
  }
  const newest = (await s.call('GET', '/api/control/audit?limit=2')).json as { entries: Array<{ id: number }>; total: number; before: number };
  assert.equal(newest.entries.length, 2);
  assert.equal(newest.before, newest.total);
  const oldest = newest.entries[0];
  assert.ok(oldest);
  const older = (await s.call('GET', `/api/control/audit?limit=2&beforeId=${oldest.id}`)).json as {
    entries: Array<{ id: number }>;
    total: number;
    before: number;
  };
  assert.equal(older.entries.length, 2);
  assert.ok(
    older.entries.every((e) => e.id < oldest.id),
    'the next page is older',
  );
  assert.equal(older.before, newest.total - 2);

  s.sys.sim?.energy?.setGridMeterComms(false);
  await until('the grid meter and the load are no longer GOOD', async () => {
    const g = (await s.call('GET', '/api/control/flow')).json as unknown as Flow;
    return g.grid?.phases.L1?.quality !== 'GOOD' && g.load?.phases.L1 !== null && g.load?.phases.L1?.quality !== 'GOOD';
  });
});
