import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../../src/system.js';
import { clockStartingAt, type MovableClock } from '../../src/util/clock.js';
import type { ControlTestHooks } from '../../src/edge/control-runtime.js';
import { httpClient } from './http.js';

/** Noon in Kampala on a fixed day (never today's date). */
export const NOON = Date.UTC(2026, 2, 10, 9, 0, 0);
export const PASSWORD = 'control-test-password-1';

export interface ControlSite {
  readonly sys: RunningSystem;
  readonly clock: MovableClock;
  call(method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }>;
  /** What the main meter sees now, per phase (W, import positive), from the physics. */
  grid(): { L1: number; L2: number; L3: number; total: number };
  /** The battery setpoints the inverter holds now (W per phase, discharge positive). */
  setpoints(): { L1: number; L2: number; L3: number };
  cycles(): number;
  close(): Promise<void>;
}

export const DEVICES = [
  { component: 'ess0', profile: 'GENERIC-ESS', bus: 'energy', address: 1, subComponents: { pv: 'pv0' } },
  { component: 'grid', profile: 'DTSU666', bus: 'energy', address: 3 },
];
export const ASSETS = [
  { type: 'grid-meter', component: 'grid', perPhase: true },
  { type: 'battery', component: 'ess0', control: 'setpoint', perPhase: true, maxChargeW: 6000, maxDischargeW: 6000 },
  { type: 'pv', component: 'pv0', ratedW: 9000 },
];

export async function startControlSite(o: {
  control: Record<string, unknown>;
  energy?: Record<string, unknown>;
  relays?: boolean;
  hooks?: ControlTestHooks;
  pv?: { L1: number; L2: number; L3: number };
  /** Further top-level sections of the site config (e.g. scada). */
  extra?: Record<string, unknown>;
}): Promise<ControlSite> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-control-'));
  const clock = clockStartingAt(NOON);
  const config = {
    site: { id: 'ctl', name: 'Control test', timezone: 'Africa/Kampala' },
    poll: { intervalMs: 10_000 },
    storage: { path: path.join(dir, 'mgos.db'), flushIntervalMs: 0 },
    http: { host: '127.0.0.1', port: 0 },
    sim: {
      enabled: true,
      seed: 3,
      customers: 3,
      port: 0,
      ...(o.relays ? { relays: true } : {}),
      energy: { inverter: 'generic', capacityWh: 20_000, initialSoc: 0.6, maxPowerW: 6000, responseMs: 600, pvPeakWPerPhase: 3000, cloudiness: 0, ...o.energy },
    },
    control: { devices: DEVICES, assets: ASSETS, ...o.control },
    ...o.extra,
  };
  const sys = await startSystem({
    config,
    adminPassword: PASSWORD,
    clock,
    simClock: clock,
    logger: pino({ level: 'silent' }),
    ...(o.hooks ? { controlHooks: o.hooks } : {}),
  });
  const e = sys.sim?.energy;
  if (!e) throw new Error('no simulated energy system');
  e.setPvAvailable(o.pv ?? { L1: 0, L2: 0, L3: 0 });
  const http = httpClient(() => sys.url);
  const token = await http.login('admin', PASSWORD);
  return {
    sys,
    clock,
    call: (method, url, body) => http.call(method, url, { token, body }),
    grid: () => {
      sys.sim?.model.update();
      const v = sys.sim?.model.meterValues(100);
      const L1 = v?.ActivePower_L1 ?? NaN;
      const L2 = v?.ActivePower_L2 ?? NaN;
      const L3 = v?.ActivePower_L3 ?? NaN;
      return { L1, L2, L3, total: L1 + L2 + L3 };
    },
    setpoints: () => ({ ...e.system.setpointW }),
    cycles: () => sys.control?.cycle.timing.cycles ?? 0,
    close: async () => {
      await sys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok` holds (checked every 100 ms), at most `ms`; fails with the description. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Waits for n more cycles of the edge cycle. */
export async function cyclesPass(s: ControlSite, n: number): Promise<void> {
  const start = s.cycles();
  await until(`${n} cycles pass`, () => s.cycles() >= start + n, (n + 10) * 1500);
}
