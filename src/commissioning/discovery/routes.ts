import { z } from '#zod';
import type { Discovery } from './discovery.js';
import { HttpError, type RouteRegistry } from '../../api/route.js';

export function registerDiscoveryRoutes(routes: RouteRegistry, discovery: Discovery): void {
  routes.add({
    method: 'POST',
    url: '/api/buses/:id/scan',
    summary: 'Scan a bus (all of 1-247 or a range) for meters; live polling keeps priority',
    role: 'installer',
    params: z.object({ id: z.string() }),
    body: z.object({ from: z.number().int().min(1).max(247).default(1), to: z.number().int().min(1).max(247).default(247) }).strict(),
    handler: ({ params, body, user, reply }) => {
      try {
        const scan = discovery.start(params.id, body.from, body.to, user?.username ?? '?');
        void reply.code(202);
        return { scanId: scan.id, scan };
      } catch (e) {
        throw new HttpError(409, (e as Error).message);
      }
    },
  });
  routes.add({ method: 'GET', url: '/api/scans', summary: 'Recent bus scans', role: 'viewer', handler: () => ({ scans: discovery.list() }) });
  routes.add({
    method: 'GET',
    url: '/api/scans/:id',
    summary: 'Progress and findings of a scan: found meters, duplicates, proposals',
    role: 'viewer',
    params: z.object({ id: z.uuid() }),
    handler: ({ params }) => {
      const s = discovery.get(params.id);
      if (!s) throw new HttpError(404, `no scan ${params.id}`);
      return s;
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/scans/:id/cancel',
    summary: 'Stop a running scan',
    role: 'installer',
    params: z.object({ id: z.uuid() }),
    handler: ({ params }) => ({ cancelled: discovery.cancel(params.id) }),
  });
}
