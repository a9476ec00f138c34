import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alarmConfigSchema } from '../src/alarms/alarm-config.js';
import { AlarmError } from '../src/alarms/errors.js';
import { frequencyFinding, siteFrequency } from '../src/alarms/rules/frequency.js';
import { diskFinding } from '../src/alarms/rules/disk-free.js';
import { balanceFinding } from '../src/alarms/rules/energy-balance.js';
import { answeredLastPoll, BadCycleCounter, offlineFinding } from '../src/alarms/rules/meter-offline.js';
import { notLoggingFinding } from '../src/alarms/rules/not-logging.js';
import { REVERSE_QUIET_MS, reverseEnergyStep } from '../src/alarms/rules/reverse-energy.js';
import { statusFinding } from '../src/alarms/rules/status-code.js';
import { voltageFinding } from '../src/alarms/rules/voltage.js';
import { STATUS_CODES, statusCode } from '../src/alarms/status-codes.js';

const cfg = alarmConfigSchema.parse({});
const meter = { key: 'meter7', name: 'house_07', role: 'customer' as const };

test('offline: a meter is judged by its last poll; N bad cycles raise, one good clears', () => {
  assert.equal(answeredLastPoll(null), false, 'never polled');
  assert.equal(answeredLastPoll({ ok: true, at: 2, since: 1 }), true);
  assert.equal(answeredLastPoll({ ok: false, at: 2, since: 1 }), false);
  const c = new BadCycleCounter();
  for (let i = 0; i < 2; i++) c.record('meter7', false);
  assert.equal(offlineFinding(meter, c.count('meter7'), 3, null).active, false);
  const f = offlineFinding(meter, c.record('meter7', false), 3, 'timeout after 300 ms');
  assert.ok(f.active && f.severity === 'major' && /3 poll cycles \(last error: timeout after 300 ms\)/.test(f.message), f.message);
  const onBus = offlineFinding(meter, 3, 3, null, { id: 'bus1', port: '/dev/ttyUSB0' });
  assert.ok(onBus.active && /on bus bus1 \(\/dev\/ttyUSB0\), whose other meters answer/.test(onBus.message), onBus.message);
  const main = offlineFinding({ ...meter, role: 'main' }, 3, 3, null);
  assert.ok(main.active && main.severity === 'critical');
  assert.equal(offlineFinding(meter, c.record('meter7', true), 3, null).active, false);
});

test('not logging: judged on the newest stored reading, or on when watching began if none', () => {
  const t0 = 1_000_000_000_000;
  assert.equal(notLoggingFinding(meter, t0, t0, t0 + 15 * 60_000, 15).active, false);
  const f = notLoggingFinding(meter, t0, t0, t0 + 16 * 60_000, 15);
  assert.ok(f.active && /last stored reading 16 min ago/.test(f.message), f.message);
  const never = notLoggingFinding(meter, undefined, t0, t0 + 20 * 60_000, 15);
  assert.ok(never.active && /no reading stored yet/.test(never.message));
  // Back from an outage 5 min ago: the hour-old last reading does not blame the recorder yet.
  assert.equal(notLoggingFinding(meter, t0, t0, t0 + 60 * 60_000, 15, t0 + 55 * 60_000).active, false);
  const back = notLoggingFinding(meter, t0, t0, t0 + 60 * 60_000, 15, t0 + 44 * 60_000);
  assert.ok(back.active && /last stored reading 60 min ago, although it has answered polls for 16 min/.test(back.message), back.message);
});

test('voltage: outside 230 V +-10 % raises with the measured value; hysteresis while open; beyond 2x tolerance is critical', () => {
  assert.equal(voltageFinding('meter100/Voltage_L2', 207.5, cfg.voltage, false).active, false);
  const low = voltageFinding('meter100/Voltage_L2', 195.04, cfg.voltage, false);
  assert.ok(
    low.active && low.condition === 'under' && low.severity === 'major' && low.message.includes('195.0 V') && low.message.includes('207.0-253.0 V'),
    low.message,
  );
  assert.equal(voltageFinding('meter100/Voltage_L2', 208, cfg.voltage, true).active, true, 'just inside the band does not clear an open alarm');
  assert.equal(voltageFinding('meter100/Voltage_L2', 230, cfg.voltage, true).active, false);
  const high = voltageFinding('meter100/Voltage_L1', 290, cfg.voltage, false);
  assert.ok(high.active && high.condition === 'over' && high.severity === 'critical');
});

test('frequency: the main meter is trusted, else the median; outside [minHz, maxHz] raises', () => {
  assert.deepEqual(
    siteFrequency([
      { meter: 'meter2', role: 'customer', hz: 50 },
      { meter: 'meter100', role: 'main', hz: 49.1 },
    ]),
    { hz: 49.1, source: 'meter100' },
  );
  assert.equal(
    siteFrequency([
      { meter: 'meter2', role: 'customer', hz: 55 },
      { meter: 'meter3', role: 'customer', hz: 50 },
      { meter: 'meter4', role: 'customer', hz: 50.01 },
    ])?.hz,
    50.01,
  );
  assert.equal(siteFrequency([]), undefined);
  const f = frequencyFinding(51.2, 'meter100', cfg.frequency, false);
  assert.ok(f.active && f.condition === 'over' && f.message.includes('51.20 Hz'));
  assert.equal(frequencyFinding(50.49, 'meter100', cfg.frequency, true).active, true, 'hysteresis');
  assert.equal(frequencyFinding(50.0, 'meter100', cfg.frequency, true).active, false);
});

test('reverse energy: raises once export rose past the limit since first seen; clears after an hour without export', () => {
  const t0 = 1_000_000_000_000;
  let s = reverseEnergyStep('meter2', undefined, 5, t0, 0.1, false);
  assert.equal(s.finding.active, false);
  s = reverseEnergyStep('meter2', s.watch, 5.08, t0 + 60_000, 0.1, false);
  assert.equal(s.finding.active, false);
  s = reverseEnergyStep('meter2', s.watch, 5.25, t0 + 120_000, 0.1, false);
  assert.ok(s.finding.active && /exported 0.25 kWh/.test(s.finding.message), s.finding.message);
  s = reverseEnergyStep('meter2', s.watch, 5.25, t0 + 120_000 + REVERSE_QUIET_MS - 1, 0.1, true);
  assert.equal(s.finding.active, true, 'still open within the quiet hour');
  s = reverseEnergyStep('meter2', s.watch, 5.25, t0 + 120_000 + REVERSE_QUIET_MS, 0.1, true);
  assert.equal(s.finding.active, false);
  assert.equal(s.watch.baselineKWh, 5.25, 'a clear starts a new baseline');
  const reset = reverseEnergyStep('meter2', s.watch, 0.5, t0 + 2 * REVERSE_QUIET_MS, 0.1, false);
  assert.equal(reset.watch.baselineKWh, 0.5, 'a counter that fell (meter replaced) starts over');
});

test('energy balance: net energy at the main meter vs the customers, with both numbers and the share', () => {
  const f = balanceFinding({ day: '2026-03-10', mainKWh: 20, customersKWh: 15, customersIncomplete: ['meter4'] }, 0.1);
  assert.ok(f?.active, 'a quarter unaccounted');
  assert.match(f.message, /main meter 20.00 kWh, customer meters 15.00 kWh, unaccounted 5.00 kWh = 25.0 %/);
  assert.match(f.message, /incomplete data that day: meter4/);
  assert.equal(balanceFinding({ day: 'd', mainKWh: 20, customersKWh: 19, customersIncomplete: [] }, 0.1)?.active, false);
  assert.equal(balanceFinding({ day: 'd', mainKWh: 0.2, customersKWh: 0, customersIncomplete: [] }, 0.1), undefined, 'too little energy to judge');
});

test('disk: under the free share raises, under a third of it is critical', () => {
  assert.equal(diskFinding({ freeBytes: 20, totalBytes: 100 }, '/data', 0.15)?.active, false);
  const f = diskFinding({ freeBytes: 10, totalBytes: 100 }, '/data', 0.15);
  assert.ok(f?.active && f.severity === 'major' && /10.0 % free/.test(f.message));
  const g = diskFinding({ freeBytes: 4, totalBytes: 100 }, '/data', 0.15);
  assert.ok(g?.active && g.severity === 'critical');
});

test('status codes: the seed table 1000-1025 as data; 1000 clears, others raise with the field action; unknown refused', () => {
  assert.equal(STATUS_CODES.length, 22);
  assert.deepEqual(
    STATUS_CODES.map((c) => c.code),
    [1000, 1001, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 1014, 1015, 1016, 1017, 1018, 1021, 1022, 1023, 1024, 1025],
  );
  for (const c of STATUS_CODES) assert.equal(c.subCode, c.code - 1000);
  const tamper = statusFinding('meter5', statusCode(1005));
  assert.ok(
    tamper.active &&
      tamper.condition === '1005' &&
      tamper.message.includes('Open Upper Cover') &&
      tamper.message.includes('Reseal cover + enter clear tamper token.'),
  );
  assert.equal(statusFinding('meter5', statusCode(1018)).active && statusCode(1018).severity, 'critical');
  assert.equal(statusFinding('meter5', statusCode(1000)).active, false);
  assert.throws(
    () => statusCode(1002),
    (e: unknown) => e instanceof AlarmError && e.reason === 'invalid' && /unknown meter status code 1002; known codes: 1000, 1001, 1003/.test(e.message),
  );
});
