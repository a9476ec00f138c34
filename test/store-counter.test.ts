import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulateCounter, counterDelta } from '../src/store/counter.js';

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

test('counterDelta: a reset (meter replaced or cleared) counts from zero', () => {
  close(counterDelta(12345.6, 0.4), 0.4);
  assert.equal(counterDelta(12345.6, 0), 0);
  // A configured rollover does not turn a reset in mid-range into a wrap.
  close(counterDelta(500000, 3.2, { rollover: 999999.99 }), 3.2);
});

test('counterDelta: a rollover at the configured maximum counts the energy across the wrap', () => {
  close(counterDelta(999999.5, 0.3, { rollover: 999999.99 }), 0.79);
  close(counterDelta(99998, 5, { rollover: 99999 }), 6);
  // Without a configured maximum the same step is a reset.
  close(counterDelta(999999.5, 0.3), 0.3);
});

test('counterDelta: NaN in, NaN out', () => {
  assert.ok(Number.isNaN(counterDelta(NaN, 1)));
  assert.ok(Number.isNaN(counterDelta(1, NaN)));
});

test('accumulateCounter: running total across a reset, a rollover and jitter', () => {
  const totals = accumulateCounter([999999.0, 999999.9, 0.1, 0.5, 0.45, 0.5, 0.45, 0.6, 0.2, 0.7], { rollover: 999999.99 });
  const expected = [0, 0.9, 1.09, 1.49, 1.49, 1.49, 1.49, 1.59, 1.79, 2.29];
  totals.forEach((v, i) => close(v, expected[i] as number));
});

test('accumulateCounter: jitter around one value is not counted again and again', () => {
  const totals = accumulateCounter([100, 99.99, 100, 99.99, 100, 100.01]);
  close(totals[totals.length - 1] as number, 0.01);
});
