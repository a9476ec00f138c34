import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockStartingAt } from '../src/util/clock.js';
import { ASSETS, NOON, sleep, startControlSite, until } from './helpers/control-site.js';
import { startUtilityServer } from './helpers/utility-server.js';

// Closed loop of the CSIP-AUS v1.3 storage target (opModStorageTargetW, discharge positive): the
// utility's 2030.5 server (HTTPS, mTLS) schedules three short events back to back; the client writes
// utility/StorageTargetW, the utility-limits controller targets the battery in the supply-quality
// class, the resolver keeps it inside the other utility limits, and the setpoint goes over Modbus TCP
// to the simulated hybrid inverter. The battery's power is the one the inverter reports over Modbus.
// Self-consumption runs below the utility's class: it decides the battery before and after the events.

/** The lower of 4 % and 100 W (the utility's measurement accuracy). */
const tolerance = (w: number): number => Math.min(0.04 * Math.abs(w), 100);
const sum = (w: { L1: number; L2: number; L3: number }): number => w.L1 + w.L2 + w.L3;
const mean = (xs: readonly number[]): number => xs.reduce((n, x) => n + x, 0) / xs.length;
const DISCHARGE_W = 2000;
const CHARGE_W = -3000;
const CONFLICT_W = 3000;
const EXPORT_LIMIT_W = 1500;
/** 900 W of PV over a site load of about 130 W: the PV alone exports about half the event's limit. */
const PV = { L1: 300, L2: 300, L3: 300 };

interface Sample {
  readonly battery: number;
  readonly grid: number;
  /** The utility-limits controller's status then. */
  readonly status: string;
}

test('storage target over Modbus: the battery discharges 2 kW and charges 3 kW as the utility asks, an export limit caps a 3 kW discharge and the status says why, self-consumption resumes after', async (t) => {
  const serverClock = clockStartingAt(NOON);
  const utility = await startUtilityServer({ clock: serverClock, defaults: { opModExpLimW: 10_000 }, events: [] });
  const s = await startControlSite({
    control: {
      assets: ASSETS,
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        { kind: 'utility-limits', id: 'utility' },
      ],
      safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }] },
    },
    pv: PV,
    extra: { csip: utility.csip },
  });
  t.after(async () => {
    await s.close();
    await utility.close();
  });
  const e = s.sys.sim?.energy;
  assert.ok(e);
  const channel = (name: string): number | null | undefined => s.sys.site.image.get('utility', name)?.value;
  /** The battery's power as the inverter reports it over Modbus (W, discharge positive). */
  const measured = (): number => s.sys.site.image.get('ess0', 'ActivePower')?.value ?? NaN;
  const status = (): string => {
    const all = s.sys.control?.status().controllers as Array<{ id: string; status: { detail?: string; reason?: string } }>;
    const st = all.find((c) => c.id === 'utility')?.status;
    return st?.detail ?? st?.reason ?? '';
  };
  /** Which controller chose the battery's setpoints in the last cycle. */
  const chosenBy = (): string => {
    const ds = s.sys.control?.log.recent(1)[0]?.decisions ?? [];
    return [...new Set(ds.filter((d) => d.target.startsWith('ess0/SetActivePower')).map((d) => d.chosenBy ?? 'none'))].join(',');
  };
  const why = (): string =>
    `battery ${Math.round(measured())} W (physics ${Math.round(sum(e.system.snapshot().essW))} W); grid ${Math.round(s.grid().total)} W; utility ${JSON.stringify(s.sys.site.image.component('utility'))}; chosen by ${chosenBy()}; status ${status()}; client ${s.sys.utility?.client.lastError ?? 'ok'}; events ${JSON.stringify(s.sys.utility?.lastEvaluation()?.result.events)}`;
  const sample = (): Sample => ({ battery: measured(), grid: s.grid().total, status: status() });
  /** Samples every 250 ms while the storage target in force is `w`. */
  const whileTarget = async (w: number): Promise<Sample[]> => {
    const out: Sample[] = [];
    while (channel('StorageTargetW') === w) {
      out.push(sample());
      await sleep(250);
    }
    return out;
  };
  /** Cycles of the edge cycle that started at or after `serverS` (the server's clock, the site's runs a little behind). */
  const cyclesSince = (serverS: number): number => {
    const fromMs = serverS * 1000 - (serverClock() - s.clock());
    return (s.sys.control?.log.recent(50) ?? []).filter((c) => c.at >= fromMs).length;
  };
  /** Waits for the target to be in force, then for the battery to reach it: the time from the event's start and the cycles since. */
  const reach = async (w: number, startS: number, label: string): Promise<{ ms: number; cycles: number }> => {
    await until(`${label} in force`, () => channel('StorageTargetW') === w, 20_000).catch((err: unknown) => assert.fail(`${String(err)}: ${why()}`));
    await until(`${label} reached`, () => Math.abs(measured() - w) <= tolerance(w), 10_000).catch((err: unknown) => assert.fail(`${String(err)}: ${why()}`));
    return { ms: serverClock() - startS * 1000, cycles: cyclesSince(startS) };
  };

  await until('the default is in force and the cycle steers', () => channel('ExportLimitW') === 10_000 && s.cycles() >= 3, 30_000);
  // Three events back to back, a few seconds from now on the server's clock (the client follows it).
  const at = Math.floor(serverClock() / 1000) + 3;
  const start = { discharge: at, charge: at + 9, conflict: at + 17, end: at + 26 };
  const ev = (mRID: string, from: number, to: number, base: Record<string, number>) => ({
    mRID,
    start: from,
    duration: to - from,
    creationTime: at - 60,
    base,
  });
  utility.setEvents([
    ev('B1', start.discharge, start.charge, { opModStorageTargetW: DISCHARGE_W }),
    ev('B2', start.charge, start.conflict, { opModStorageTargetW: CHARGE_W }),
    ev('B3', start.conflict, start.end, { opModStorageTargetW: CONFLICT_W, opModExpLimW: EXPORT_LIMIT_W }),
  ]);
  await sleep(1000);
  const before = sample();
  assert.equal(chosenBy(), 'self', `self-consumption decides before the events: ${why()}`);
  assert.ok(Math.abs(before.grid) <= 100, `self-consumption holds the grid near 0 before the events: ${why()}`);

  // 1. Discharge 2 kW: reached within a few cycles, held while the event runs; the grid moves by as much.
  const r1 = await reach(DISCHARGE_W, start.discharge, 'the discharge target');
  const held1 = await whileTarget(DISCHARGE_W);
  assert.ok(r1.cycles <= 4, `2 kW reached in ${r1.cycles} cycles (${r1.ms} ms)`);
  assert.ok(held1.length >= 8, `${held1.length} samples while the discharge target was in force`);
  const worst1 = Math.max(...held1.map((x) => Math.abs(x.battery - DISCHARGE_W)));
  assert.ok(worst1 <= tolerance(DISCHARGE_W), `held within ${tolerance(DISCHARGE_W)} W of 2000 W: worst off by ${Math.round(worst1)} W: ${why()}`);
  // The site's load and PV are steady: what the battery gives more shows at the grid meter as export.
  const gridShift = mean(held1.map((x) => x.grid)) - before.grid;
  const batteryShift = mean(held1.map((x) => x.battery)) - before.battery;
  assert.ok(Math.abs(gridShift + batteryShift) <= 100, `the grid moved ${Math.round(gridShift)} W for the battery's ${Math.round(batteryShift)} W`);
  t.diagnostic(
    `discharge 2000 W: reached in ${r1.ms} ms (${r1.cycles} cycles); held ${Math.round(Math.min(...held1.map((x) => x.battery)))}-${Math.round(Math.max(...held1.map((x) => x.battery)))} W over ${held1.length} samples; grid ${Math.round(before.grid)} W before, ${Math.round(mean(held1.map((x) => x.grid)))} W during (battery ${Math.round(before.battery)} W before)`,
  );

  // 2. Charge 3 kW: the battery takes it from the grid.
  const r2 = await reach(CHARGE_W, start.charge, 'the charge target');
  const held2 = await whileTarget(CHARGE_W);
  assert.ok(r2.cycles <= 4, `-3000 W reached in ${r2.cycles} cycles (${r2.ms} ms)`);
  assert.ok(held2.length >= 6, `${held2.length} samples while the charge target was in force`);
  const worst2 = Math.max(...held2.map((x) => Math.abs(x.battery - CHARGE_W)));
  assert.ok(worst2 <= tolerance(CHARGE_W), `held within ${tolerance(CHARGE_W)} W of -3000 W: worst off by ${Math.round(worst2)} W: ${why()}`);
  assert.ok(mean(held2.map((x) => x.grid)) > 2000, `the site imports for the charge: ${why()}`);
  t.diagnostic(
    `charge 3000 W: reached in ${r2.ms} ms (${r2.cycles} cycles); held ${Math.round(Math.min(...held2.map((x) => x.battery)))} to ${Math.round(Math.max(...held2.map((x) => x.battery)))} W; grid ${Math.round(mean(held2.map((x) => x.grid)))} W`,
  );

  // 3. Discharge 3 kW under a 1.5 kW export limit while the PV already exports: the limit wins.
  await until('the conflicting event in force', () => channel('StorageTargetW') === CONFLICT_W && channel('ExportLimitW') === EXPORT_LIMIT_W, 10_000).catch(
    (err: unknown) => assert.fail(`${String(err)}: ${why()}`),
  );
  const held3 = await whileTarget(CONFLICT_W);
  assert.ok(held3.length >= 20, `${held3.length} samples while the conflicting event was in force`);
  const worstExport = Math.max(...held3.map((x) => -x.grid));
  assert.ok(worstExport <= EXPORT_LIMIT_W + tolerance(EXPORT_LIMIT_W), `export at most ${Math.round(worstExport)} W under the 1500 W limit: ${why()}`);
  // Settled (the last 8 samples): the battery discharges as far as the limit allows, no further.
  const settled = held3.slice(-8);
  const export3 = mean(settled.map((x) => -x.grid));
  const battery3 = mean(settled.map((x) => x.battery));
  assert.ok(export3 >= EXPORT_LIMIT_W - 150, `the site exports ${Math.round(export3)} W of its 1500 W limit: ${why()}`);
  assert.ok(battery3 > 300 && battery3 < CONFLICT_W - 1000, `the battery discharges ${Math.round(battery3)} W, short of the 3000 W target: ${why()}`);
  // Said on every settled sample (read while the event ran: the status changes with the cycle after its end).
  for (const x of settled) assert.match(x.status, /storage target discharge 3000 W cannot be met: discharge at most \d+ W \(utility export limit 1500 W/);
  const said = settled[settled.length - 1]?.status ?? '';
  t.diagnostic(
    `discharge 3000 W under a 1500 W export limit: battery ${Math.round(battery3)} W, export ${Math.round(export3)} W settled, worst ${Math.round(worstExport)} W; status: ${said}`,
  );

  // 4. The events over: self-consumption decides the battery again, as before them, and the grid is back near 0.
  const selfAgain = (): boolean => chosenBy() === 'self' && Math.abs(measured() - before.battery) <= 100 && Math.abs(s.grid().total) <= 100;
  await until('self-consumption decides again', selfAgain, 10_000).catch((err: unknown) => assert.fail(`${String(err)}: ${why()}`));
  const backMs = serverClock() - start.end * 1000;
  const backCycles = cyclesSince(start.end);
  const after: Sample[] = [];
  for (let i = 0; i < 8; i++) {
    await sleep(250);
    after.push(sample());
  }
  assert.equal(channel('StorageTargetW'), undefined, 'no storage target after the events');
  assert.doesNotMatch(status(), /storage target/);
  assert.ok(Math.max(...after.map((x) => Math.abs(x.grid))) <= 100, `self-consumption holds the grid near 0 after the events: ${why()}`);
  assert.ok(Math.max(...after.map((x) => Math.abs(x.battery - before.battery))) <= 100, `the battery charges the PV's surplus as before: ${why()}`);
  t.diagnostic(
    `after the events: back to self-consumption ${backMs} ms (${backCycles} cycles) after the last one ended; battery ${Math.round(mean(after.map((x) => x.battery)))} W, grid ${Math.round(mean(after.map((x) => x.grid)))} W`,
  );
});
