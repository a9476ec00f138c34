import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChannelValue } from '../src/channels/value.js';
import { snapshotOf } from '../src/edge/snapshot.js';
import { derReports, siteDers, telemetryReport, type SiteReportInput } from '../src/csip/site-ders.js';
import { SqliteTelemetryQueue } from '../src/csip/telemetry-queue.js';
import { meterReadingListXml } from '../src/csip/mirror-readings.js';
import { flattenReport, parseMeterReadings } from '../src/csip/conformance/reports.js';
import { capabilityXml, settingsXml } from '../src/csip/der-reports.js';

// The mapping from the site's assets and process image to what the utility is told (site-ders.ts), on
// hand-made snapshots, and the durable telemetry queue on a real SQLite file.

const NOW = Date.UTC(2026, 2, 10, 9, 0, 0);
const good = (value: number, ageMs = 500): ChannelValue => ({ value, ts: NOW - ageMs, quality: 'GOOD' });

const ASSETS = [
  { type: 'grid-meter' as const, component: 'grid', perPhase: true },
  { type: 'battery' as const, component: 'ess0', control: 'setpoint' as const, maxChargeW: 6000, maxDischargeW: 5000 },
  { type: 'pv' as const, component: 'pv0', ratedW: 9000 },
];

function input(channels: Record<string, ChannelValue>, utilityLimits = true, minSoc: ReadonlyMap<string, number> = new Map()): SiteReportInput {
  return {
    snapshot: snapshotOf(NOW, channels),
    ders: siteDers(ASSETS, [], minSoc),
    models: () => new Map(),
    grid: 'grid',
    utilityLimits,
    emergencyStop: { channel: 'io0/EmergencyStop', pressedValue: 1 },
    maxAgeMs: 30_000,
  };
}

const LIVE = {
  'ess0/ActivePower': good(-1500),
  'ess0/Soc': good(40),
  'ess0/Capacity': good(20_000),
  'ess0/FaultCode': good(0),
  'pv0/ActivePower': good(4200),
  'grid/ActivePower': good(-700),
  'grid/ActivePower_L1': good(-300),
  'grid/ActivePower_L2': good(-250, 60_000),
  'grid/ActivePower_L3': { value: -150, ts: NOW - 500, quality: 'ERROR' as const },
  'grid/ReactivePower': good(120),
  'grid/Voltage_L1': good(231.2),
  'utility/Connect': good(1),
  'utility/Energize': good(1),
};

test('DER reports from configured ratings: a battery and PV, their modes, status and state of charge', () => {
  const [ess, pv] = derReports(input(LIVE));
  assert.ok(ess && pv);
  assert.equal(ess.capability.type, 80);
  assert.equal(ess.capability.rtgMaxW, 5000);
  assert.equal(ess.capability.rtgMaxChargeRateW, 6000);
  assert.equal(ess.capability.rtgMaxWh, 20_000, 'the capacity the device reports');
  assert.equal(ess.capability.doeModesSupported, 0b1111, 'a steered battery can meet all four limits');
  assert.equal(ess.settings.setGradW, undefined, 'no ramp is claimed');
  assert.equal(ess.status.stateOfChargePct, 40);
  assert.equal(ess.status.genConnectStatus, 0b111);
  assert.equal(pv.capability.type, 4);
  assert.equal(pv.capability.rtgMaxW, 9000);
  assert.equal(pv.capability.rtgMaxChargeRateW, undefined);
  assert.equal(pv.capability.modesSupported, (1 << 2) | (1 << 3) | (1 << 20), 'connect, energize, opModMaxLimW');
  const off = derReports(input(LIVE, false))[1];
  assert.ok(off);
  assert.equal(off.settings.modesEnabled, 0, 'without the utility-limits controller nothing is enabled');
  assert.equal(off.settings.doeModesEnabled, 0);
});

test('storage extension (CSIP-AUS v1.3): storage target mode for a steered battery only, setMinWh from the minimum SoC, in the CSIP-AUS namespace', () => {
  const [ess, pv] = derReports(input(LIVE, true, new Map([['ess0', 15]])));
  assert.ok(ess && pv);
  assert.equal(ess.capability.vppModesSupported, 1, 'bit 0 opModStorageTargetW');
  assert.equal(ess.settings.vppModesEnabled, 1);
  assert.equal(ess.settings.setMinWh, 3000, '15 % of the 20 kWh the device reports');
  assert.equal(pv.capability.vppModesSupported, undefined, 'PV cannot follow a storage target');
  assert.equal(pv.settings.vppModesEnabled, undefined);
  assert.equal(pv.settings.setMinWh, undefined);
  const dflt = derReports(input(LIVE))[0];
  assert.equal(dflt?.settings.setMinWh, 2000, "the envelope's default 10 % when the site file gives no limits for the battery");
  const [essOff] = derReports(input(LIVE, false));
  assert.ok(essOff);
  assert.equal(essOff.capability.vppModesSupported, 1, 'supported whatever runs');
  assert.equal(essOff.settings.vppModesEnabled, 0, 'not enabled without the utility-limits controller');
  // Written as the server reads it: csipaus-prefixed, HexBinary8, setMinWh as {multiplier, value}.
  const cap = capabilityXml(ess.capability);
  assert.match(
    cap,
    /<csipaus:doeModesSupported>0000000F<\/csipaus:doeModesSupported><csipaus:vppModesSupported>01<\/csipaus:vppModesSupported><\/DERCapability>$/,
  );
  const set = settingsXml(ess.settings, NOW / 1000);
  assert.match(
    set,
    /<csipaus:vppModesEnabled>01<\/csipaus:vppModesEnabled><csipaus:setMinWh><multiplier>0<\/multiplier><value>3000<\/value><\/csipaus:setMinWh><\/DERSettings>$/,
  );
  assert.equal(flattenReport('DERCapability', cap)['vppModesSupported'], 1);
  assert.equal(flattenReport('DERSettings', set)['setMinWh'], 3000);
  assert.throws(() => flattenReport('DERSettings', set.replace(/csipaus:setMinWh/g, 'setMinWh')), /setMinWh: expected namespace https:\/\/csipaus.org\/ns/);
});

test('DER status: opModConnect 0, a fault code, stale data and the emergency stop', () => {
  const r = derReports(
    input({ ...LIVE, 'utility/Connect': good(0), 'ess0/FaultCode': good(17), 'pv0/ActivePower': good(4200, 120_000), 'io0/EmergencyStop': good(1) }),
  );
  const [ess, pv] = r;
  assert.ok(ess && pv);
  assert.equal(ess.status.genConnectStatus, 0b10010, 'available and faulted, not connected or operating');
  assert.equal(ess.status.operationalModeStatus, 1, 'off');
  assert.equal(ess.status.alarmStatus, 1 << 7, 'local emergency');
  assert.equal(pv.status.genConnectStatus, 0, 'no fresh data: nothing claimed');
  assert.equal(pv.status.operationalModeStatus, 0);
});

test('a DER without any rating yet is not reported (undefined), the others are', () => {
  const i = { ...input(LIVE), ders: siteDers(ASSETS, ['inv9']) };
  const r = derReports(i);
  assert.equal(r.length, 3);
  assert.equal(r[2], undefined, 'a SunSpec device not read yet has no nameplate');
});

test('telemetry: fresh values only, per phase where measured; a stale or failed phase is left out, never 0', () => {
  const t = telemetryReport(input(LIVE));
  assert.deepEqual(t.site, { activePowerW: -700, reactivePowerVar: 120, phases: { L1: { activePowerW: -300, voltageV: 231.2 } } });
  assert.deepEqual(t.ders[0], { activePowerW: -1500, storedEnergyWh: 8000 });
  assert.deepEqual(t.ders[1], { activePowerW: 4200 });
  const xml = meterReadingListXml('00'.repeat(16), t.site, 1773133200);
  const rs = parseMeterReadings(xml);
  assert.deepEqual(
    rs.map((r) => [r.uom, r.phase, Math.round(r.value * 1000) / 1000, r.start]),
    [
      [38, 0, -700, 1773133200],
      [63, 0, 120, 1773133200],
      [38, 128, -300, 1773133200],
      [29, 129, 231.2, 1773133200],
    ],
  );
});

test('the SQLite telemetry queue survives a restart, keeps order and times, and drops the oldest beyond its bound (counted)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-csipq-'));
  const file = path.join(dir, 'q.db');
  try {
    const q = new SqliteTelemetryQueue(file, 4);
    for (let i = 0; i < 6; i++)
      q.push({ mrid: 'A'.repeat(32), atS: 1773133200 + 60 * i, point: { activePowerW: -700 - i, phases: { L2: { voltageV: 230.1 + i } } } });
    q.commit();
    assert.equal(q.size, 4);
    assert.equal(q.dropped, 2);
    const first = q.peek(2);
    assert.deepEqual(
      first.map((s) => [s.atS, s.point.activePowerW, s.point.phases?.L2?.voltageV]),
      [
        [1773133320, -702, 232.1],
        [1773133380, -703, 233.1],
      ],
    );
    q.ack(first[0]?.id ?? 0);
    q.commit();
    q.close();
    // A power cut: the file is opened again.
    const again = new SqliteTelemetryQueue(file, 4);
    assert.equal(again.size, 3);
    assert.equal(again.dropped, 2);
    assert.deepEqual(
      again.peek(10).map((s) => s.atS),
      [1773133380, 1773133440, 1773133500],
    );
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the durable telemetry queue writes nothing while the server accepts at once; a sample still waiting at commit is stored', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-csipq-'));
  const file = path.join(dir, 'q.db');
  try {
    const q = new SqliteTelemetryQueue(file, 100);
    const sample = (i: number) => ({ mrid: 'B'.repeat(32), atS: 1773133200 + 60 * i, point: { activePowerW: 100 + i } });
    // Reachable: push, post (ack), commit, for an hour of one-minute posts.
    for (let i = 0; i < 60; i++) {
      q.push(sample(i));
      for (const s of q.peek(10)) q.ack(s.id);
      q.commit();
    }
    assert.equal(q.written, 0);
    assert.equal(q.size, 0);
    // Unreachable: the post fails, the sample is stored at commit; the next one joins it behind.
    q.push(sample(60));
    q.commit();
    q.push(sample(61));
    assert.deepEqual(
      q.peek(10).map((s) => s.point.activePowerW),
      [160, 161],
    );
    q.commit();
    assert.equal(q.written, 2);
    q.close();
    const again = new SqliteTelemetryQueue(file, 100);
    assert.deepEqual(
      again.peek(10).map((s) => s.atS),
      [1773133200 + 3600, 1773133200 + 3660],
    );
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
