import path from 'node:path';
import { siteConfigSchema, type SiteConfig } from '../config/site-config.js';
import type { CsipConfig } from '../csip/csip-config.js';

/**
 * The embedded default: a simulated mini-grid (one DTSU666 main meter, 24 DDSU666 customers on one
 * RS-485 bus at 9600 baud, served as RTU frames over TCP), SQLite in dataDir, the web UI on :8080.
 * A first start fills a week of simulated history (1-minute resolution) so the charts have data, and
 * startSystem seeds its billing (demo-billing-seed.ts) with mobile money through a local sandbox.
 * A hybrid inverter with a battery, PV and a generator sits at the main bus and the edge cycle steers it
 * (self-consumption, per-phase zero export, backup reserve, frequency droop, the generator at L1), so the Steering pages
 * show it at work.
 * With `csip` (the demo's own 2030.5 server, demo-utility.ts) the site follows the utility's limits too
 * (the utility-limits controller), so the Utility page shows them at work.
 */
export function demoConfig(
  dataDir: string,
  overrides: { httpPort?: number; httpHost?: string; intervalMs?: number; simPort?: number; csip?: CsipConfig; customers?: number } = {},
): SiteConfig {
  return siteConfigSchema.parse({
    site: { id: 'demo', name: 'Demo mini-grid (simulated)', timezone: 'Africa/Kampala' },
    poll: { intervalMs: overrides.intervalMs ?? 10_000 },
    storage: { path: path.join(dataDir, 'mgos.db') },
    http: { host: overrides.httpHost ?? '127.0.0.1', port: overrides.httpPort ?? 8080 },
    sim: {
      enabled: true,
      seed: 1,
      customers: overrides.customers ?? 24,
      lineSpeedBaud: 9600,
      turnaroundMs: 5,
      port: overrides.simPort ?? 0,
      backfillDays: 7,
      // A three-phase hybrid inverter (power setpoint per phase) with a 15 kWh LFP bank, 1.5 kW of PV per
      // phase under passing clouds and an 8 kW diesel generator, on their own Modbus line (issue 10).
      energy: { inverter: 'generic', capacityWh: 15_360, initialSoc: 0.6, maxPowerW: 6000, pvPeakWPerPhase: 1500, cloudiness: 0.5, generatorW: 8000 },
    },
    // Steering from the first minute: the battery keeps the grid at zero, no phase exports (PV is curtailed
    // when the battery cannot take it), 30 % is kept for outages. The battery and the PV limit act (L3); the
    // generator controller's start and stop are only recommended to people on site (L1): fail the grid
    // (POST /api/sim/energy/fault {"grid":"down"}) to see it under Steering › Approvals.
    control: {
      devices: [
        { component: 'ess0', profile: 'GENERIC-ESS', bus: 'energy', address: 1, subComponents: { pv: 'pv0' } },
        { component: 'gen0', profile: 'GENERIC-GENSET', bus: 'energy', address: 2 },
        { component: 'grid', profile: 'DTSU666', bus: 'energy', address: 3 },
      ],
      assets: [
        { type: 'grid-meter', component: 'grid', perPhase: true },
        { type: 'battery', component: 'ess0', control: 'setpoint', perPhase: true, maxChargeW: 6000, maxDischargeW: 6000 },
        { type: 'pv', component: 'pv0', ratedW: 4500 },
        { type: 'generator', component: 'gen0', ratedW: 8000 },
      ],
      controllers: [
        { kind: 'self-consumption', id: 'self' },
        { kind: 'zero-export', id: 'zero' },
        { kind: 'backup-reserve', id: 'reserve', floorPct: 30 },
        // In an outage: start the generator below 50 % SoC or above the inverter's 6 kW, stop at 85 % (L1: recommended).
        { kind: 'generator', id: 'genset', startSocPct: 50, stopSocPct: 85 },
        // Frequency response (supply quality) on top of the others, through battery dispatch and PV curtailment (L3):
        // idle at the grid's nominal 50 Hz; POST /api/sim/energy/fault {"frequencyHz": 50.3} shows it.
        { kind: 'frequency-droop', id: 'droop', maxResponseW: 2000, pv: 'pv0' },
        ...(overrides.csip ? [{ kind: 'utility-limits', id: 'utility' }] : []),
      ],
      safety: { batteries: [{ component: 'ess0', socMinPct: 10, socMaxPct: 95 }], exportLimitW: 0 },
      autonomy: [
        { capability: 'battery-dispatch', asset: 'ess0', level: 'L3' },
        { capability: 'pv-curtailment', asset: 'pv0', level: 'L3' },
        { capability: 'generator-operation', asset: 'gen0', level: 'L1' },
      ],
    },
    // The demo allows disconnect proposals at any hour, so its disconnect queue is never empty at night or on a
    // weekend (a real site's default: none from 18:00 to 08:00 nor on Saturdays and Sundays). Still supervised.
    governance: { disconnectAutonomy: 'supervised', noDisconnectWindows: [], noDisconnectWeekdays: [] },
    ...(overrides.csip ? { csip: overrides.csip } : {}),
  });
}
