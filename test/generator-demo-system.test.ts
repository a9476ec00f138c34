import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { demoConfig } from '../src/demo/demo-config.js';
import { startControlSite, until } from './helpers/control-site.js';

/**
 * The demo's generator controller at L1 (issue 10), on the demo's own control section over the
 * simulator's real Modbus line: on grid nothing is recommended; when the grid fails with the battery
 * under the start SoC, "start gen0" is recommended to people on site and the generator is not started
 * by the system; when the grid returns the recommendation ends with the outage.
 */
test('demo: in an outage under 50 % SoC the generator controller recommends starting gen0 (L1), and nothing starts it', async (t) => {
  const demo = demoConfig(tmpdir()).control;
  assert.ok(demo);
  const genset = demo.controllers.find((c) => c.kind === 'generator');
  assert.ok(genset, 'the demo runs the generator controller');
  const s = await startControlSite({
    control: {
      devices: demo.devices,
      assets: demo.assets,
      // The demo's controllers; the generator confirms its start within 1 s instead of 10 s, to keep the test short.
      controllers: demo.controllers.map((c) => (c.kind === 'generator' ? { ...c, confirmMs: 1000 } : c)),
      safety: demo.safety,
      autonomy: demo.autonomy,
    },
    energy: { initialSoc: 0.45, generatorW: 8000 },
  });
  t.after(() => s.close());
  interface Rec {
    target: string;
    value: number;
    capability: string;
    why: string;
  }
  const recommendations = async (): Promise<Rec[]> => {
    const r = await s.call('GET', '/api/control');
    assert.equal(r.status, 200, r.text);
    return r.json.recommendations as Rec[];
  };
  const genRec = async (): Promise<Rec | undefined> => (await recommendations()).find((x) => x.target === 'gen0/SetRunning');
  await until('the cycle runs on good data', () => s.cycles() >= 4);
  assert.equal(await genRec(), undefined, 'on grid: no generator recommendation');

  const r = await s.call('POST', '/api/sim/energy/fault', { grid: 'down' });
  assert.equal(r.status, 200, r.text);
  let rec: Rec | undefined;
  await until(
    'start gen0 is recommended',
    async () => {
      rec = await genRec();
      return rec?.value === 1;
    },
    30_000,
  );
  assert.ok(rec);
  assert.equal(rec.capability, 'generator-operation');
  assert.match(rec.why, /generator-operation is L1 \(manual\): recommended gen0\/SetRunning = 1 .*start gen0: outage: battery SoC 4\d(\.\d)? % below 50 %/);
  const status = await s.call('GET', '/api/control');
  const ctl = (status.json.controllers as Array<{ id: string; status: { state: string; detail?: string } }>).find((c) => c.id === 'genset');
  assert.ok(ctl);
  assert.equal(ctl.status.state, 'ok');
  assert.match(ctl.status.detail ?? '', /start wanted since .* \(outage: battery SoC/);
  assert.equal(s.sys.sim?.energy?.system.snapshot().genRunning, false, 'L1: the system never starts it');
});
