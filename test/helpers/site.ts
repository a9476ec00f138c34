import { siteConfigSchema, type SiteConfig } from '../../src/config/site-config.js';
import { loadProfiles } from '../../src/drivers/profiles.js';
import type { DeviceReading } from '../../src/modbus/poller.js';
import { SiteRuntime } from '../../src/site/site-runtime.js';
import { simulatedMeterConfigs, startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/sim/simulator.js';

/** A readings sink that keeps everything, standing in for the recorder where storage is not under test. */
export class CollectingSink {
  readonly readings: DeviceReading[] = [];
  add(r: DeviceReading): void {
    this.readings.push(r);
  }
  of(key: string): DeviceReading[] {
    return this.readings.filter((r) => r.key === key);
  }
}

export interface SimSite {
  readonly sim: SimulatorHandle;
  readonly site: SiteRuntime;
  readonly sink: CollectingSink;
  readonly config: SiteConfig;
  close(): Promise<void>;
}

/** A simulator on RTU-over-TCP and a SiteRuntime polling it, without timers: tests call runCycle(). */
export async function startSimSite(opts: {
  customers: number;
  sim?: SimulatorOptions;
  timeoutMs?: number;
  now?: () => number;
  intervalMs?: number;
}): Promise<SimSite> {
  const sim = await startSimulator({ customers: opts.customers, ...opts.sim });
  const config = siteConfigSchema.parse({
    site: { id: 'test', name: 'Test site' },
    poll: { intervalMs: opts.intervalMs ?? 10_000 },
    buses: [{ id: 'bus1', transport: 'rtu-over-tcp', host: '127.0.0.1', port: sim.rtuTcpPort, timeoutMs: opts.timeoutMs ?? 300, retries: 1 }],
    meters: simulatedMeterConfigs(opts.customers),
  });
  const sink = new CollectingSink();
  const site = new SiteRuntime(config, loadProfiles(), sink, opts.now);
  return {
    sim,
    site,
    sink,
    config,
    close: async () => {
      await site.stop();
      await sim.close();
    },
  };
}
