import type { SiteConfig } from '../../config/site-config.js';
import type { UsedAddress } from '../address-plan.js';
import { modelsFromProfiles } from './fields.js';
import type { InventoryOptions } from './store.js';

type SiteMeters = Pick<SiteConfig, 'site' | 'buses' | 'meters'>;

/** Addresses the site config gives its meters (address, else id; bus, else the first bus), as the config schema reads them. */
export function configuredAddresses(config: SiteMeters): UsedAddress[] {
  const firstBus = config.buses[0]?.id;
  return config.meters.flatMap((m) => {
    const bus = m.bus ?? firstBus;
    return bus ? [{ site: config.site.name, bus, address: m.address ?? m.id, by: `configured meter ${m.name} (id ${m.id})` }] : [];
  });
}

/**
 * Inventory options for this edge box: its site, buses, configured meters, the models of its loaded
 * profiles and the commissioning section. `meters` may return a fresher list than the file
 * (meters added while running); by default the file's list is used.
 */
export function inventoryOptionsFor(
  config: SiteMeters & Pick<SiteConfig, 'commissioning'>,
  profiles: ReadonlyMap<string, { readonly phases: 1 | 3 }>,
  extra: { readonly now?: () => number; readonly meters?: () => SiteConfig['meters'] } = {},
): InventoryOptions {
  return {
    commissioning: config.commissioning,
    models: modelsFromProfiles(profiles),
    configured: () => configuredAddresses({ ...config, meters: extra.meters?.() ?? config.meters }),
    localSite: config.site.name,
    buses: config.buses.map((b) => b.id),
    now: extra.now,
  };
}
