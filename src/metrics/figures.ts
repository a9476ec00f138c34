import type { Severity } from '../alarms/types.js';
import type { TimingSummary } from '../edge/cycle-timing.js';
import type { BusView } from '../site/site-runtime.js';
import type { UplinkStatus } from '../uplink/uplink.js';

/**
 * What a running site says about its own health, read when asked: the Prometheus endpoint and the health
 * message over the uplink both read this one view, so they never disagree.
 */
export interface SystemFigures {
  readonly siteId: string;
  readonly version: string;
  /** Since the system started, by the system clock. */
  uptimeMs(): number;
  buses(): readonly BusView[];
  /** Told after every finished poll cycle of every bus. */
  onBusCycle(listener: (bus: string, durationMs: number) => void): () => void;
  /** The edge cycle's timing; null when the site file has no control section. */
  edge(): TimingSummary | null;
  /** Told after every edge cycle (never when there is none). */
  onEdgeCycle(listener: (durationMs: number, jitterMs: number) => void): () => void;
  /** Null when the uplink is not configured or not started yet. */
  uplink(): UplinkStatus | null;
  /** Whether the site file configures an uplink (its figures are then reported even before it starts). */
  readonly hasUplink: boolean;
  openAlarms(): Readonly<Record<Severity, number>>;
}
