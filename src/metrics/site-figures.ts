import type { AlarmStore } from '../alarms/alarm-store.js';
import type { ControlRuntime } from '../edge/control-runtime.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { UplinkStatus } from '../uplink/uplink.js';
import type { Clock } from '../util/clock.js';
import type { SystemFigures } from './figures.js';

export interface SiteFiguresDeps {
  readonly siteId: string;
  readonly version: string;
  readonly clock: Clock;
  readonly site: SiteRuntime;
  readonly control: ControlRuntime | null;
  readonly alarms: AlarmStore;
  readonly hasUplink: boolean;
  /** The uplink starts after the HTTP server: asked each time. */
  readonly uplink: () => UplinkStatus | null;
}

/** The figures of a running system, from its parts. */
export function siteFigures(d: SiteFiguresDeps): SystemFigures {
  const startedAt = d.clock();
  return {
    siteId: d.siteId,
    version: d.version,
    uptimeMs: () => d.clock() - startedAt,
    buses: () => d.site.busViews(),
    onBusCycle: (listener) => d.site.live.subscribe(({ report }) => listener(report.bus, report.durationMs)),
    edge: () => d.control?.cycle.timing.summary() ?? null,
    onEdgeCycle: (listener) => d.control?.cycle.timing.subscribe(listener) ?? (() => undefined),
    uplink: d.uplink,
    hasUplink: d.hasUplink,
    openAlarms: () => d.alarms.openBySeverity(),
  };
}
