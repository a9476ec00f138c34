import type { StoreDb } from '../store/database.js';
import { systemClock } from '../util/clock.js';
import { dailyEnergy } from '../store/history.js';
import { meterIdOf } from '../store/registry.js';
import { ZonedClock } from '../store/zoned-clock.js';
import { completenessShare, completenessSince, type Completeness } from './completeness.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { RouteRegistry } from '../api/route.js';

const DAY_MS = 86_400_000;

export interface FleetDeps {
  readonly site: SiteRuntime;
  readonly db: StoreDb;
  /** Open alarms whose subject is this meter. */
  readonly openAlarms: (meterKey: string) => number;
  /** Inventory records with a bus and address (decommissioned ones left out). */
  readonly inventory: () => ReadonlyArray<{ serial: string; status: string; bus: string | null; address: number | null }>;
  readonly now?: () => number;
  /**
   * fleetStoreFigures off the request thread (system.ts: the read worker), as JSON text. Without it
   * they are read here, which holds the event loop about 10 ms per meter.
   */
  readonly storeFigures?: (keys: readonly string[], nowMs: number, pollMs: number, timeZone: string) => Promise<string>;
}

/** What the fleet view reads from the store for one meter: completeness over the last day and today's import. */
export interface MeterStoreFigures {
  readonly stats: Completeness | null;
  readonly todayImportKWh: number;
}

/**
 * The store's part of the fleet view, per meter key (the slow part: a day of reading times and
 * today's energy for each meter). Runs on any connection, the read worker's read-only one too.
 */
export function fleetStoreFigures(db: StoreDb, keys: readonly string[], nowMs: number, pollMs: number, timeZone: string): Record<string, MeterStoreFigures> {
  const dayStart = new ZonedClock(timeZone).dayStart(nowMs);
  const out: Record<string, MeterStoreFigures> = {};
  for (const key of keys) {
    const id = meterIdOf(db, key);
    const stats = id === undefined ? null : completenessSince(db, id, Math.floor((nowMs - DAY_MS) / 1000), pollMs);
    out[key] = { stats, todayImportKWh: dailyEnergy(db, key, dayStart, nowMs, timeZone)[0]?.importKWh ?? 0 };
  }
  return out;
}

/**
 * One call for every meter of every site this installation runs: status, last reading, data
 * completeness over the last day, today's energy and open alarms. An edge box runs one site; a
 * fleet server runs many through the same call.
 */
export function fleetView(d: FleetDeps) {
  const now = (d.now ?? systemClock)();
  const keys = d.site.meterList().map((m) => m.key);
  return fleetViewOf(d, now, fleetStoreFigures(d.db, keys, now, d.site.intervalMs, d.site.config.site.timezone));
}

/** The view from the store's figures (read here or by the read worker) and the live state of this thread. */
function fleetViewOf(d: FleetDeps, now: number, figures: Readonly<Record<string, MeterStoreFigures>>) {
  const { site } = d;
  const tz = site.config.site.timezone;
  // Readings reach the database once per flush: a last reading younger than that is not a gap.
  const graceMs = site.config.storage.flushIntervalMs + site.intervalMs;
  // As in the inventory, a record without a bus is on the site's first bus (the spreadsheet has no bus column).
  const firstBus = site.config.buses[0]?.id ?? site.busViews()[0]?.id;
  const inventory = new Map(
    d
      .inventory()
      .filter((r) => r.status !== 'Decommissioned')
      .map((r) => [`${r.bus ?? firstBus}:${r.address}`, r]),
  );
  const meters = site.meterList().map((m) => {
    const stats = figures[m.key]?.stats ?? undefined;
    const lastStored = stats?.last ?? null;
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
      lastReadingTs: lastLiveTs ?? (lastStored === null ? null : lastStored * 1000),
      completeness: stats ? completenessShare(stats, now, site.intervalMs, graceMs) : 0,
      todayImportKWh: figures[m.key]?.todayImportKWh ?? 0,
      openAlarms: d.openAlarms(m.key),
      inventoryStatus: inv?.status ?? null,
      serial: inv?.serial ?? null,
    };
  });
  return { sites: [{ id: site.config.site.id, name: site.config.site.name, timezone: tz, meters }] };
}

export function registerFleetRoutes(routes: RouteRegistry, d: FleetDeps): void {
  routes.add({
    method: 'GET',
    url: '/api/fleet',
    summary: 'Every meter across sites: status, last reading, completeness over the last day, energy today, open alarms',
    role: 'viewer',
    handler: async () => {
      const read = d.storeFigures;
      if (!read) return fleetView(d);
      const now = (d.now ?? systemClock)();
      const keys = d.site.meterList().map((m) => m.key);
      const figures = JSON.parse(await read(keys, now, d.site.intervalMs, d.site.config.site.timezone)) as Record<string, MeterStoreFigures>;
      return fleetViewOf(d, now, figures);
    },
  });
}
