import path from 'node:path';
import { siteConfigSchema, type SiteConfig } from '../config/site-config.js';

/**
 * The embedded default: a simulated mini-grid (one DTSU666 main meter, 24 DDSU666 customers on one
 * RS-485 bus at 9600 baud, served as RTU frames over TCP), SQLite in dataDir, the web UI on :8080.
 * A first start fills a week of simulated history (1-minute resolution) so the charts have data, and
 * startSystem seeds its billing (demo-billing-seed.ts) with mobile money through a local sandbox.
 */
export function demoConfig(dataDir: string, overrides: { httpPort?: number; httpHost?: string; intervalMs?: number; simPort?: number } = {}): SiteConfig {
  return siteConfigSchema.parse({
    site: { id: 'demo', name: 'Demo mini-grid (simulated)', timezone: 'Africa/Kampala' },
    poll: { intervalMs: overrides.intervalMs ?? 10_000 },
    storage: { path: path.join(dataDir, 'mgos.db') },
    http: { host: overrides.httpHost ?? '127.0.0.1', port: overrides.httpPort ?? 8080 },
    sim: { enabled: true, seed: 1, customers: 24, lineSpeedBaud: 9600, turnaroundMs: 5, port: overrides.simPort ?? 0, backfillDays: 7 },
    // The demo allows disconnect proposals at any hour, so its disconnect queue is never empty at night or on a
    // weekend (a real site's default: none from 18:00 to 08:00 nor on Saturdays and Sundays). Still supervised.
    governance: { disconnectAutonomy: 'supervised', noDisconnectWindows: [], noDisconnectWeekdays: [] },
  });
}
