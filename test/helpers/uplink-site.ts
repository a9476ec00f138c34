import path from 'node:path';
import { pino } from 'pino';
import { startSystem, type RunningSystem } from '../../src/system.js';
import { clockStartingAt } from '../../src/util/clock.js';

/**
 * A simulated site (a main meter and one house) whose uplink publishes to `url`: the tests of the
 * uplink's telemetry, health and UI card differ only in the uplink options they add.
 */
export interface UplinkSiteOptions {
  readonly siteId: string;
  readonly dir: string;
  readonly url: string;
  readonly topicPrefix: string;
  readonly clientId: string;
  readonly password: string;
  readonly startAt: number;
  /** More uplink options (health, ...), merged over the telemetry and queue defaults. */
  readonly uplink?: Record<string, unknown>;
}

export function startUplinkSite(o: UplinkSiteOptions): Promise<RunningSystem> {
  return startSystem({
    config: {
      site: { id: o.siteId, name: `Uplink site ${o.siteId}` },
      poll: { intervalMs: 1000 },
      storage: { path: path.join(o.dir, 'mgos.db') },
      http: { port: 0 },
      sim: { enabled: true, customers: 2, port: 0 },
      meters: [
        { id: 100, name: 'main', type: '3phase', role: 'main' },
        { id: 2, name: 'house_2', type: '1phase' },
      ],
      uplink: {
        url: o.url,
        topicPrefix: o.topicPrefix,
        clientId: o.clientId,
        telemetry: { periodMs: 1000 },
        queue: { flushDelayMs: 100 },
        ...o.uplink,
      },
    },
    adminPassword: o.password,
    logger: pino({ level: 'silent' }),
    clock: clockStartingAt(o.startAt),
  });
}
