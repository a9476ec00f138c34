import { test } from 'node:test';
import assert from 'node:assert/strict';
import { virtualGridMeter, virtualGridPower } from '../src/drivers/virtual-grid-meter.js';
import type { ChannelValue } from '../src/channels/value.js';

const good = (value: number, ts = 1000): ChannelValue => ({ value, ts, quality: 'GOOD' });

test('grid = load - PV - ESS discharge - generator, with the signs of docs/sign-conventions.md', () => {
  assert.deepEqual(virtualGridPower({ load: good(3000), pv: good(1000), ess: good(500), gen: good(0) }), good(1500));
  // Charging (negative ESS) adds to import; PV surplus exports (negative).
  assert.equal(virtualGridPower({ load: good(1000), pv: good(3000), ess: good(-800) }).value, -1200);
  assert.equal(virtualGridPower({ load: good(1000) }).value, 1000, 'absent components count 0');
});

test('quality is the worst of the inputs, the timestamp the oldest; a missing value is an ERROR', () => {
  const stale: ChannelValue = { value: 200, ts: 500, quality: 'STALE' };
  assert.deepEqual(virtualGridPower({ load: good(1000, 900), pv: stale }), { value: 800, ts: 500, quality: 'STALE' });
  assert.equal(virtualGridPower({ load: good(1000), ess: { value: 1, ts: 1000, quality: 'ERROR' }, pv: stale }).quality, 'ERROR');
  assert.deepEqual(virtualGridPower({ load: good(1000), ess: { value: null, ts: 700, quality: 'ERROR' } }), { value: null, ts: 700, quality: 'ERROR' });
  assert.equal(virtualGridPower({ load: undefined, pv: good(1) }).quality, 'ERROR');
});

test('per phase and total, like the worked example of docs/sign-conventions.md (L1 +15 kW, L2 -3 kW, L3 -2 kW)', () => {
  const g = virtualGridMeter({
    L1: { load: good(16_000), pv: good(1000) },
    L2: { load: good(1000), pv: good(4000) },
    L3: { load: good(1000), pv: good(2000), ess: good(1000) },
  });
  assert.equal(g.ActivePower_L1.value, 15_000);
  assert.equal(g.ActivePower_L2.value, -3000);
  assert.equal(g.ActivePower_L3.value, -2000);
  assert.deepEqual(g.ActivePower, good(10_000));
});
