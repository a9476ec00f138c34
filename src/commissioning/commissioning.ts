import type { RouteRegistry } from '../api/route.js';
import { registerDiscoveryRoutes } from '../api/discovery-routes.js';
import { registerMeterAdminRoutes } from '../api/meter-admin-routes.js';
import type { StreamSource } from '../api/stream-route.js';
import type { SiteConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import type { Recorder } from '../recorder/recorder.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import { latestReading } from '../store/history.js';
import { addressPlan } from './address-plan.js';
import type { ConfigVersions } from './config-versions.js';
import { Discovery } from './discovery.js';
import { MeterManager, type AddressCheck } from './meter-manager.js';

export interface CommissioningDeps {
  readonly db: StoreDb;
  readonly site: SiteRuntime;
  readonly config: SiteConfig;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  readonly recorder: Recorder;
  readonly versions: ConfigVersions;
}

export interface Commissioning {
  readonly manager: MeterManager;
  readonly discovery: Discovery;
  readonly registerRoutes: (routes: RouteRegistry) => void;
  readonly streamSources: readonly StreamSource[];
}

/** Meter management (hot add with verification and rollback, versions) and bus discovery, wired together. */
export function startCommissioning(d: CommissioningDeps): Commissioning {
  const defaultBus = d.config.buses[0]?.id ?? '';
  // The bus as configured is what a new meter must fit; inventory assignments are checked by the inventory.
  const plan = addressPlan(d.config.commissioning.addressPlan, () =>
    manager.meters().map((m) => ({ site: d.config.site.id, bus: m.bus ?? defaultBus, address: m.address ?? m.id, by: `configured meter ${m.name} (id ${m.id})` })),
  );
  const checkAddress: AddressCheck = (bus, phases, address) => {
    const r = plan.check({ site: d.config.site.id, bus }, phases, address);
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
  const discovery = new Discovery({ site: d.site, profiles: d.profiles, meters: () => manager.meters(), checkAddress });
  return {
    manager,
    discovery,
    registerRoutes: (routes) => {
      registerMeterAdminRoutes(routes, d.site, manager, d.versions);
      registerDiscoveryRoutes(routes, discovery);
    },
    streamSources: [{ event: 'scan', subscribe: (send) => discovery.subscribe(send) }],
  };
}
