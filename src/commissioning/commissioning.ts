import type { RouteRegistry, StreamSource } from '../api/route.js';
import { registerDiscoveryRoutes } from './discovery/routes.js';
import { registerMeterAdminRoutes } from './meter-admin-routes.js';
import type { SiteConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import type { Recorder } from '../recorder/recorder.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import { latestReading } from '../store/history.js';
import { registerConverterRoutes } from './converter/routes.js';
import { registerInventoryRoutes } from './inventory/routes.js';
import { registerQuarantineRoutes } from './quarantine-routes.js';
import { registerReplacementRoutes } from './inventory/replacement-routes.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { ConversionResult } from './converter/converter.js';
import { addressPlan } from './address-plan.js';
import { benchLinePolicyFor } from './converter/bench-line-policy.js';
import { configuredAddresses, inventoryOptionsFor } from './inventory/site.js';
import { InventoryStore } from './inventory/store.js';
import type { ConfigVersions } from './config-versions.js';
import { Discovery } from './discovery/discovery.js';
import { MeterManager, type AddressCheck } from './meter-manager.js';

export interface CommissioningDeps {
  readonly db: StoreDb;
  readonly site: SiteRuntime;
  readonly config: SiteConfig;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  readonly recorder: Recorder;
  readonly versions: ConfigVersions;
  readonly clock?: Clock;
}

export interface Commissioning {
  readonly manager: MeterManager;
  readonly discovery: Discovery;
  readonly inventory: InventoryStore;
  readonly registerRoutes: (routes: RouteRegistry) => void;
  readonly streamSources: readonly StreamSource[];
}

/** A successful bench conversion of a meter the inventory expects moves it from Assigned to Converted. */
function markConverted(inventory: InventoryStore, r: ConversionResult, by: string): void {
  if (!r.serial || inventory.get(r.serial)?.status !== 'Assigned') return;
  inventory.transition(
    r.serial,
    { to: 'Converted', reason: `converter run: ${r.model ?? 'meter'} switched to Modbus, now at address ${r.address ?? '?'}` },
    by,
  );
}

/** Meter management (hot add with verification and rollback, versions) and bus discovery, wired together. */
export function startCommissioning(d: CommissioningDeps): Commissioning {
  // The bus as configured is what a new meter must fit; inventory assignments are checked by the inventory.
  const plan = addressPlan(d.config.commissioning.addressPlan, () => configuredAddresses({ ...d.config, meters: [...manager.meters()] }));
  const checkAddress: AddressCheck = (bus, phases, address) => {
    const r = plan.check({ site: d.config.site.name, bus }, phases, address);
    return r.ok ? null : r.reason;
  };
  const manager: MeterManager = new MeterManager({
    site: d.site,
    config: d.config,
    profiles: d.profiles,
    versions: d.versions,
    checkAddress,
    readingsStored: (key) => {
      d.recorder.flushAndBuild();
      return latestReading(d.db, key) !== undefined;
    },
  });
  const inventory = new InventoryStore(d.db, inventoryOptionsFor(d.config, d.profiles, { meters: () => [...manager.meters()] }));
  const discovery = new Discovery({ site: d.site, profiles: d.profiles, meters: () => manager.meters(), checkAddress });
  return {
    manager,
    discovery,
    inventory,
    registerRoutes: (routes) => {
      registerMeterAdminRoutes(routes, d.site, manager, d.versions);
      registerDiscoveryRoutes(routes, discovery);
      // A meter's lifecycle in the field: swaps are inventory events, impossible intervals wait for a person.
      registerReplacementRoutes(routes, { db: d.db, clock: d.clock ?? systemClock, buildOptions: d.recorder.buildOptions });
      registerQuarantineRoutes(routes, { db: d.db, clock: d.clock ?? systemClock });
      registerInventoryRoutes(routes, {
        inventory,
        addressPlan: inventory.addressPlan,
        timeZone: d.config.site.timezone,
        buses: d.config.buses.map((b) => b.id),
      });
      registerConverterRoutes(routes, {
        linePolicy: benchLinePolicyFor(d.config),
        profiles: d.profiles,
        onConverted: (r, by) => markConverted(inventory, r, by),
      });
    },
    streamSources: [{ event: 'scan', subscribe: (send) => discovery.subscribe(send) }],
  };
}
