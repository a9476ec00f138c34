import type { StoreDb } from '../store/database.js';
import { dailyEnergy } from '../store/history.js';
import { meterIdOf } from '../store/registry.js';
import { ZonedClock } from '../store/zoned-clock.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { RouteRegistry } from './route.js';

const DAY_MS = 86_400_000;

export interface FleetDeps {
  readonly site: SiteRuntime;
  readonly db: StoreDb;
  /** Open alarms whose subject is this meter. */
  readonly openAlarms: (meterKey: string) => number;
  /** Inventory records with a bus and address (decommissioned ones left out). */
  readonly inventory: () => ReadonlyArray<{ serial: string; status: string; bus: string | null; address: number | null }>;
  readonly now?: () => number;
}

/**
 * One call for every meter of every site this installation runs: status, last reading, data
 * completeness over the last day, today's energy and open alarms. An edge box runs one site; a
 * fleet server runs many through the same call.
 */
export function fleetView(d: FleetDeps) {
  const now = (d.now ?? Date.now)();
  const { site, db } = d;
  const tz = site.config.site.timezone;
  const expectedPerDay = DAY_MS / site.intervalMs;
  const countSince = db.prepare<[number, number], { n: number; last: number | null }>('SELECT count(*) AS n, max(ts) AS last FROM readings WHERE meter_id = ? AND ts >= ?');
  const clock = new ZonedClock(tz);
  const dayStart = clock.dayStart(now);
  const inventory = new Map(d.inventory().filter((r) => r.status !== 'Decommissioned').map((r) => [`${r.bus}:${r.address}`, r]));
  const meters = site.meterList().map((m) => {
    const id = meterIdOf(db, m.key);
    const stats = id === undefined ? { n: 0, last: null } : (countSince.get(id, Math.floor((now - DAY_MS) / 1000)) ?? { n: 0, last: null });
    const today = dailyEnergy(db, m.key, dayStart, now, tz)[0];
    const live = site.image.component(m.key);
    const lastLiveTs = Object.values(live).reduce<number | null>((t, v) => (v.quality !== 'ERROR' && (t === null || v.ts > t) ? v.ts : t), null);
    const inv = inventory.get(`${m.bus}:${m.address}`);
    return {
      key: m.key,
      id: m.id,
      name: m.name,
      model: m.model,
      bus: m.bus,
      enabled: m.enabled,
      quality: m.enabled ? site.image.quality(m.key) : null,
      lastReadingTs: lastLiveTs ?? (stats.last === null ? null : stats.last * 1000),
      completeness: Math.min(1, stats.n / expectedPerDay),
      todayImportKWh: today?.importKWh ?? 0,
      openAlarms: d.openAlarms(m.key),
      inventoryStatus: inv?.status ?? null,
      serial: inv?.serial ?? null,
    };
  });
  return { sites: [{ id: site.config.site.id, name: site.config.site.name, timezone: tz, meters }] };
}

export function registerFleetRoutes(routes: RouteRegistry, d: FleetDeps): void {
  routes.add({ method: 'GET', url: '/api/fleet', summary: 'Every meter across sites: status, last reading, completeness over the last day, energy today, open alarms', role: 'viewer', handler: () => fleetView(d) });
}
