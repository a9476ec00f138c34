import { z } from '#zod';
import { meterSchema } from '../config/site-config.js';
import type { ConfigVersions } from './config-versions.js';
import { MeterChangeError, meterPatchSchema, type MeterManager } from './meter-manager.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { meterParams, meterView } from '../site/routes.js';

async function asHttp<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof MeterChangeError) throw new HttpError(e.status, e.message);
    throw e;
  }
}

/** Add, change, disable and remove meters while the system runs; configuration versions. */
export function registerMeterAdminRoutes(routes: RouteRegistry, site: SiteRuntime, manager: MeterManager, versions: ConfigVersions): void {
  routes.add({
    method: 'POST',
    url: '/api/meters',
    summary: 'Add a meter without restart; answers once it has been read and stored (within two poll cycles) or rolls back with the reason (422)',
    role: 'installer',
    body: meterSchema.extend({ reason: z.string().max(500).optional() }),
    handler: async ({ body, user, reply }) => {
      const { reason, ...meter } = body;
      const { meter: m, version } = await asHttp(() => manager.add(meter, user?.username ?? '?', reason ?? 'meter added'));
      const info = site.meter(`meter${m.id}`);
      void reply.code(201);
      return { meter: info ? meterView(site, info) : m, verified: m.enabled, configVersion: version.version };
    },
  });
  routes.add({
    method: 'PATCH',
    url: '/api/meters/:key',
    summary: 'Change, disable or re-enable a meter (a re-enabled or changed meter is verified like a new one)',
    role: 'installer',
    params: meterParams,
    body: meterPatchSchema.extend({ reason: z.string().max(500).optional() }),
    handler: async ({ params, body, user }) => {
      const { reason, ...patch } = body;
      const { meter, version } = await asHttp(() => manager.update(params.key, patch, user?.username ?? '?', reason ?? 'meter changed'));
      const info = site.meter(params.key);
      return { meter: info ? meterView(site, info) : meter, configVersion: version.version };
    },
  });
  routes.add({
    method: 'DELETE',
    url: '/api/meters/:key',
    summary: 'Remove a meter from polling (its history is kept)',
    role: 'installer',
    params: meterParams,
    query: z.object({ reason: z.string().max(500).optional() }),
    handler: async ({ params, query, user }) => {
      const version = await asHttp(() => manager.remove(params.key, user?.username ?? '?', query.reason ?? 'meter removed'));
      return { removed: params.key, configVersion: version.version };
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/config/versions',
    summary: 'Configuration versions: who changed the meter list, when and why',
    role: 'viewer',
    handler: () => ({ versions: versions.list() }),
  });
  routes.add({
    method: 'GET',
    url: '/api/config/versions/:version',
    summary: 'One configuration version with its meter list',
    role: 'viewer',
    params: z.object({ version: z.coerce.number().int().positive() }),
    handler: ({ params }) => {
      const v = versions.get(params.version);
      if (!v) throw new HttpError(404, `no configuration version ${params.version}`);
      return v;
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/config/versions/:version/restore',
    summary: 'Restore an earlier meter list (as a new version)',
    role: 'admin',
    params: z.object({ version: z.coerce.number().int().positive() }),
    handler: async ({ params, user }) => ({ configVersion: (await asHttp(() => manager.restore(params.version, user?.username ?? '?'))).version }),
  });
}
