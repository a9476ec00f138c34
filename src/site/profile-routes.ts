import { METER_TYPE_ALIASES } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import type { RouteRegistry } from '../api/route.js';

/** What the UI knows of a meter model: the type names that pick it, its phases and the channels it reports. */
export interface ProfileSummary {
  readonly model: string;
  readonly manufacturer: string;
  readonly description: string;
  readonly phases: 1 | 3;
  /** Values a site file's or the API's `type` may take for it: its short alias (`1phase`) first, then the model. */
  readonly types: readonly string[];
  readonly channels: readonly string[];
}

export function profileSummary(p: DeviceProfile): ProfileSummary {
  const aliases = Object.entries(METER_TYPE_ALIASES)
    .filter(([, model]) => model.toUpperCase() === p.model.toUpperCase())
    .map(([alias]) => alias);
  const channels = new Set<string>();
  for (const g of p.groups) for (const pt of g.points) channels.add(pt.channel);
  for (const d of p.derived) channels.add(d.channel);
  return { model: p.model, manufacturer: p.manufacturer, description: p.description, phases: p.phases, types: [...aliases, p.model], channels: [...channels] };
}

/** GET /api/profiles: the meter models this controller has profiles for (profiles are data; the UI lists them from here). */
export function registerProfileRoutes(routes: RouteRegistry, profiles: ReadonlyMap<string, DeviceProfile>): void {
  const list = [...profiles.values()]
    .filter((p) => p.component === 'meter')
    .map(profileSummary)
    .sort((a, b) => a.phases - b.phases || a.model.localeCompare(b.model));
  routes.add({
    method: 'GET',
    url: '/api/profiles',
    summary: 'Meter models with their type names, phases and channels',
    role: 'viewer',
    handler: () => ({ profiles: list }),
  });
}
