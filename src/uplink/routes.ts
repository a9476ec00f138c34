import { z } from '#zod';
import type { RouteRegistry } from '../api/route.js';
import type { Clock } from '../util/clock.js';
import type { UplinkStatus } from './uplink.js';

const ageS = (now: number, at: number | null): number | null => (at === null ? null : Math.max(0, Math.round((now - at) / 1000)));

/** GET /api/uplink: the uplink's state and backlog for the UI and for scripts (docs/uplink.md). */
export function registerUplinkRoutes(routes: RouteRegistry, o: { configured: boolean; status: () => UplinkStatus | null; now: Clock }): void {
  routes.add({
    method: 'GET',
    url: '/api/uplink',
    summary: 'The MQTT uplink: connected or not, messages queued and left to replay, the oldest queued message and the last contact with the broker.',
    role: 'viewer',
    query: z.object({}).strict(),
    handler: () => {
      const s = o.status();
      const now = o.now();
      if (!s) return { configured: o.configured, state: o.configured ? 'starting' : 'off', now };
      return {
        configured: true,
        state: s.connected ? 'connected' : 'disconnected',
        now,
        queued: s.queued,
        backlog: s.backlog,
        inflight: s.inflight,
        dropped: s.dropped,
        sent: s.sent,
        acked: s.acked,
        connections: s.connections,
        oldestQueuedMs: s.oldestQueuedMs,
        oldestQueuedAgeS: ageS(now, s.oldestQueuedMs),
        lastContactMs: s.lastContactMs,
        lastContactAgeS: ageS(now, s.lastContactMs),
      };
    },
  });
}
