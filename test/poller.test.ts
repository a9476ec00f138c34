import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimSite } from './helpers/site.js';

const T0 = Date.UTC(2026, 3, 4, 15, 0, 0); // 18:00 in Kampala: evening peak

test('every meter is read in one request per cycle; values equal what the simulator shows', async () => {
  const s = await startSimSite({ customers: 20, sim: { clock: () => T0, seed: 7 }, now: () => T0 });
  try {
    const [poller] = s.site.pollers();
    assert.ok(poller);
    // The first cycle reads every block of every meter; after that the energy block is staggered:
    // each meter reads it in one cycle out of six.
    assert.equal((await poller.runCycle()).requests, 21 * 2);
    const reports = [];
    for (let i = 0; i < 6; i++) reports.push(await poller.runCycle());
    const perCycle = reports.map((r) => r.requests);
    assert.equal(
      perCycle.reduce((a, b) => a + b, 0),
      21 * 6 + 21,
      'one instant read per meter per cycle plus one energy read per meter per six cycles',
    );
    for (const m of s.sim.model.meters()) {
      const truth = s.sim.model.meterValues(m.id);
      assert.ok(truth);
      const latest = s.site.image.component(`meter${m.id}`);
      for (const channel of ['Voltage_L1', 'Current_L1', 'ActivePower', 'Frequency', 'EnergyImport']) {
        const expected = truth[channel];
        const got = latest[channel];
        assert.ok(expected !== undefined && got, `meter${m.id} ${channel} missing`);
        assert.equal(got.quality, 'GOOD');
        // float32 on the wire: 7 significant digits
        assert.ok(Math.abs((got.value ?? NaN) - expected) <= Math.abs(expected) * 1e-6 + 1e-3, `meter${m.id} ${channel}: ${got.value} vs ${expected}`);
      }
    }
  } finally {
    await s.close();
  }
});

test('a silent meter turns ERROR in its first cycle and costs the others at most one timeout every few cycles', async () => {
  const s = await startSimSite({ customers: 20, sim: { clock: () => T0 }, now: () => T0, timeoutMs: 150 });
  try {
    const [poller] = s.site.pollers();
    assert.ok(poller);
    await poller.runCycle();
    s.sim.slave.silence(5);
    const busBefore = s.site.busViews()[0];
    const readsBefore = s.sink.readings.length;
    const cycles = 12;
    for (let i = 0; i < cycles; i++) {
      await poller.runCycle();
      assert.equal(s.site.image.quality('meter5'), 'ERROR');
      assert.equal(s.site.image.quality('meter6'), 'GOOD');
    }
    const busAfter = s.site.busViews()[0];
    assert.ok(busBefore && busAfter);
    const timeouts = busAfter.timeouts - busBefore.timeouts;
    // First failure: one try + one retry; then back-off 1, 2, 4, 8 cycles without retries.
    assert.ok(timeouts <= 5, `silent meter cost ${timeouts} timeouts in ${cycles} cycles`);
    assert.ok(timeouts >= 3, 'the dead meter is still probed now and then so it can come back');
    // Every other meter delivered a reading in every cycle.
    assert.equal(s.sink.readings.length - readsBefore, 20 * cycles);
    assert.match(s.site.lastErrorOf('meter5') ?? '', /timed out/);
    // It comes back once it answers again (within the back-off window of 8 cycles).
    s.sim.slave.restore(5);
    for (let i = 0; i < 9; i++) await poller.runCycle();
    assert.equal(s.site.image.quality('meter5'), 'GOOD');
  } finally {
    await s.close();
  }
});

test('corrupted frames are counted and rejected, never stored', async () => {
  const s = await startSimSite({ customers: 5, sim: { clock: () => T0 }, now: () => T0, timeoutMs: 150 });
  try {
    const [poller] = s.site.pollers();
    assert.ok(poller);
    s.sim.slave.corrupt(3);
    for (let i = 0; i < 3; i++) await poller.runCycle();
    assert.equal(s.sink.of('meter3').length, 0, 'no reading of the corrupting meter reached the recorder');
    assert.equal(s.site.image.quality('meter3'), 'ERROR');
    const bus = s.site.busViews()[0];
    assert.ok(bus && bus.crcErrors >= 2, `crc errors counted: ${bus?.crcErrors}`);
    assert.match(s.site.lastErrorOf('meter3') ?? '', /CRC/);
    assert.equal(s.sink.of('meter2').length, 3);
  } finally {
    await s.close();
  }
});

test('values turn STALE after three poll intervals without a fresh reading', async () => {
  let now = T0;
  const s = await startSimSite({ customers: 2, sim: { clock: () => T0 }, now: () => now });
  try {
    const [poller] = s.site.pollers();
    assert.ok(poller);
    await poller.runCycle();
    assert.equal(s.site.image.get('meter2', 'ActivePower')?.quality, 'GOOD');
    now += 3 * 10_000 + 1;
    assert.equal(s.site.image.get('meter2', 'ActivePower')?.quality, 'STALE');
    // Energy is read every 6th cycle, so it is judged against its own period.
    assert.equal(s.site.image.get('meter2', 'EnergyImport')?.quality, 'GOOD');
    assert.equal(s.site.image.quality('meter2'), 'STALE');
  } finally {
    await s.close();
  }
});
