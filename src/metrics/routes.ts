import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError, type RouteRegistry } from '../api/route.js';
import type { MetricsConfig } from './metrics-config.js';
import type { MetricsRegistry } from './prometheus.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * `GET /metrics` for Prometheus. Off (404) unless the site file has a `metrics:` section; then only with
 * its token as a bearer token. No exemption for localhost: behind a reverse proxy on the same machine
 * every client would be local. The token is long and random, so guessing needs no throttle; the
 * comparison is over SHA-256 digests in constant time, so its timing says nothing about the token.
 */
export function registerMetricsRoute(routes: RouteRegistry, config: MetricsConfig | undefined, metrics: MetricsRegistry | null): void {
  const expected = config?.enabled ? digest(config.token) : null;
  routes.add({
    method: 'GET',
    url: '/metrics',
    summary:
      'Prometheus metrics (text format 0.0.4): buses, edge cycle, uplink queue, open alarms, process. Needs the bearer token of the site file (metrics.token).',
    role: null,
    produces: 'text/plain',
    handler: async ({ req, reply }) => {
      if (!expected || !metrics) throw new HttpError(404, 'metrics are off: set metrics.token in the site file (docs/metrics.md)');
      const header = req.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!timingSafeEqual(digest(token), expected)) {
        void reply.header('www-authenticate', 'Bearer realm="mgos metrics"');
        throw new HttpError(401, 'send the metrics token as a bearer token (metrics.token in the site file)');
      }
      void reply.type(metrics.contentType);
      return metrics.text();
    },
  });
}
