import { z } from '#zod';
import { CHANNELS } from '../channels/catalogue.js';
import type { SiteRuntime, MeterInfo } from './site-runtime.js';
import { HttpError, type RouteRegistry } from '../api/route.js';

/** Channels shown for the site's connection point on the overview. */
const GRID_CHANNELS = [
  'ActivePower',
  'ActivePower_L1',
  'ActivePower_L2',
  'ActivePower_L3',
  'Voltage_L1',
  'Voltage_L2',
  'Voltage_L3',
  'Frequency',
  'EnergyImport',
  'EnergyExport',
];

export const meterParams = z.object({ key: z.string().regex(/^meter\d{1,3}$/, 'a meter key looks like meter12') }).strict();

export function meterView(site: SiteRuntime, m: MeterInfo) {
  return {
    ...m,
    quality: m.enabled ? site.image.quality(m.key) : null,
    lastError: site.lastErrorOf(m.key),
    values: site.image.component(m.key),
  };
}

export function overview(site: SiteRuntime) {
  const counts = { total: 0, online: 0, stale: 0, error: 0, disabled: 0, waiting: 0 };
  for (const m of site.meterList()) {
    counts.total++;
    if (!m.enabled) {
      counts.disabled++;
      continue;
    }
    const q = site.image.quality(m.key);
    if (q === 'GOOD') counts.online++;
    else if (q === 'STALE') counts.stale++;
    else if (q === 'ERROR') counts.error++;
    else counts.waiting++;
  }
  const main = site.mainMeter();
  const all = main ? site.image.component(main.key) : {};
  const values = Object.fromEntries(GRID_CHANNELS.filter((c) => all[c]).map((c) => [c, all[c]]));
  return { ts: site.now(), site: { id: site.config.site.id, name: site.config.site.name }, grid: { meter: main?.key ?? null, values }, meters: counts };
}

export function registerSiteRoutes(routes: RouteRegistry, site: SiteRuntime, version: string): void {
  routes.add({
    method: 'GET',
    url: '/api/site',
    summary: 'The site: name, time zone and poll interval',
    role: 'viewer',
    handler: () => ({ id: site.config.site.id, name: site.config.site.name, timezone: site.config.site.timezone, pollIntervalMs: site.intervalMs, version }),
  });
  routes.add({
    method: 'GET',
    url: '/api/sites',
    summary: 'All sites this installation runs (one per edge box)',
    role: 'viewer',
    handler: () => ({
      sites: [{ id: site.config.site.id, name: site.config.site.name, timezone: site.config.site.timezone, meters: site.meterList().length }],
    }),
  });
  routes.add({
    method: 'GET',
    url: '/api/overview',
    summary: 'Site overview: grid power, voltage, frequency, meter counts',
    role: 'viewer',
    handler: () => overview(site),
  });
  routes.add({
    method: 'GET',
    url: '/api/meters',
    summary: 'All meters with their latest values and quality',
    role: 'viewer',
    handler: () => ({ meters: site.meterList().map((m) => meterView(site, m)) }),
  });
  routes.add({
    method: 'GET',
    url: '/api/meters/:key',
    summary: 'One meter with its latest values and quality',
    role: 'viewer',
    params: meterParams,
    handler: ({ params }) => {
      const m = site.meter(params.key);
      if (!m) throw new HttpError(404, `no meter ${params.key}`);
      return meterView(site, m);
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/buses',
    summary: 'Per-bus figures: requests, errors, timeouts, bytes, utilisation',
    role: 'viewer',
    handler: () => ({ buses: site.busViews() }),
  });
  routes.add({
    method: 'GET',
    url: '/api/channels',
    summary: 'The channel catalogue: names, units and sign conventions',
    role: 'viewer',
    handler: () => ({ channels: CHANNELS }),
  });
}
