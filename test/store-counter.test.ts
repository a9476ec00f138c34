import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulateCounter, counterDelta, isCounterFault } from '../src/store/counter.js';

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test('counterDelta: a counter going forward counts the difference', () => {
  close(counterDelta(12345.6, 12346.1), 0.5);
  assert.equal(counterDelta(10, 10), 0);
});

test('counterDelta: a small step backwards is float noise, not a reset', () => {
  assert.equal(counterDelta(12345.6, 12345.55), 0);
  assert.equal(counterDelta(500000.0625, 500000), 0, 'one float32 step at 5e5');
  assert.equal(counterDelta(10, 9.8, { noise: 0.5 }), 0);
});

test('counterDelta: a backwards step is a fault that counts nothing, never a replacement that books the counter', () => {
  assert.equal(counterDelta(12345.6, 0.4), 0);
  assert.equal(counterDelta(51974, 212), 0);
  assert.ok(isCounterFault(12345.6, 0.4));
  assert.ok(!isCounterFault(12345.6, 12345.55), 'noise is not a fault');
  assert.ok(!isCounterFault(10, 11), 'forward is not a fault');
  // A configured rollover does not turn a step back in mid-range into a wrap.
  assert.equal(counterDelta(500000, 3.2, { rollover: 999999.99 }), 0);
  assert.ok(isCounterFault(500000, 3.2, { rollover: 999999.99 }));
});

test('counterDelta: a rollover at the configured maximum counts the energy across the wrap', () => {
  close(counterDelta(999999.5, 0.3, { rollover: 999999.99 }), 0.79);
  close(counterDelta(99998, 5, { rollover: 99999 }), 6);
  assert.ok(!isCounterFault(999999.5, 0.3, { rollover: 999999.99 }));
  // Without a configured maximum the same step is a fault.
  assert.equal(counterDelta(999999.5, 0.3), 0);
  assert.ok(isCounterFault(999999.5, 0.3));
});

test('counterDelta: NaN in, NaN out', () => {
  assert.ok(Number.isNaN(counterDelta(NaN, 1)));
  assert.ok(Number.isNaN(counterDelta(1, NaN)));
});

test('accumulateCounter: running total across a rollover, a fault and jitter; the fault is reported', () => {
  const faults: number[] = [];
  const totals = accumulateCounter([999999.0, 999999.9, 0.1, 0.5, 0.45, 0.5, 0.45, 0.6, 0.2, 0.7], { rollover: 999999.99 }, faults);
  const expected = [0, 0.9, 1.09, 1.49, 1.49, 1.49, 1.49, 1.59, 1.59, 2.09];
  totals.forEach((v, i) => close(v, expected[i] as number));
  assert.deepEqual(faults, [8], '0.6 -> 0.2 is neither noise nor a wrap');
});

test('accumulateCounter: jitter around one value is not counted again and again', () => {
  const totals = accumulateCounter([100, 99.99, 100, 99.99, 100, 100.01]);
  close(totals[totals.length - 1] as number, 0.01);
});
