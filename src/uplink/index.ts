import path from 'node:path';
import type { ProcessImage } from '../channels/process-image.js';
import type { LiveFeed } from '../site/live-feed.js';
import type { Clock } from '../util/clock.js';
import { TelemetryPublisher } from './telemetry.js';
import { Uplink, type UplinkLog, type UplinkStatus } from './uplink.js';
import type { UplinkConfig } from './uplink-config.js';

export interface StartUplinkOptions {
  readonly config: UplinkConfig;
  readonly siteId: string;
  /** The store's file: the queue defaults to uplink-queue.db beside it. */
  readonly storagePath: string;
  readonly image: ProcessImage;
  readonly live: LiveFeed;
  readonly clock: Clock;
  readonly onDrop?: (dropped: number, total: number) => void;
  readonly log?: UplinkLog;
}

export interface RunningUplink {
  readonly uplink: Uplink;
  readonly telemetry: TelemetryPublisher;
  status(): UplinkStatus;
  stop(): Promise<void>;
}

/** The site's uplink: telemetry from the process image through the durable queue to the broker. */
export function startUplink(o: StartUplinkOptions): RunningUplink {
  const c = o.config;
  const queuePath = c.queue.path ?? path.join(path.dirname(o.storagePath), 'uplink-queue.db');
  const uplink = new Uplink({ config: c, siteId: o.siteId, queuePath, onDrop: o.onDrop, log: o.log, clock: o.clock });
  const telemetry = new TelemetryPublisher(
    {
      componentNames: () => o.image.componentNames(),
      component: (name) => o.image.component(name),
      subscribe: (listener) => o.live.subscribe(listener),
    },
    uplink,
    { periodMs: c.telemetry.periodMs, changes: c.telemetry.changes, deadbands: c.telemetry.deadbands, energyUnit: c.energyUnit, clock: o.clock },
  );
  uplink.start();
  telemetry.start();
  return {
    uplink,
    telemetry,
    status: () => uplink.status(),
    stop: async () => {
      telemetry.stop();
      await uplink.stop();
    },
  };
}

export { uplinkConfigSchema, type UplinkConfig } from './uplink-config.js';
