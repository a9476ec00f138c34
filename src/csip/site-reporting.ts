import path from 'node:path';
import type { ProcessImage } from '../channels/process-image.js';
import type { ChannelValue } from '../channels/value.js';
import type { SiteConfig } from '../config/site-config.js';
import type { CsipClientOptions } from './client.js';
import type { CsipConfig } from './csip-config.js';
import { derReports, siteDers, telemetryReport, type ModelValues, type SiteReportInput } from './site-ders.js';
import { MemoryTelemetryQueue, SqliteTelemetryQueue, type TelemetryQueue } from './telemetry-queue.js';
import { UTILITY_COMPONENT } from './utility-channels.js';

/**
 * Wires the site into the 2030.5 client's reporting options (docs/csip.md "On the site"): its DERs from
 * `control.assets` and the SunSpec devices, their reports and telemetry from a snapshot of the process
 * image taken when the client asks, in-band registration and the connection point from the `csip:`
 * section, and the telemetry queue (SQLite next to the store unless configured otherwise).
 */
export interface SiteReportingSource {
  readonly control: SiteConfig['control'];
  /** The SunSpec devices' inverter components and their models as last read. */
  readonly sunspec: { components(): string[]; models(component: string): ModelValues; device(component: string): unknown };
  /** The controllers running now (they change with the operator's mode); default those of `control`. */
  readonly controllers?: () => readonly { readonly kind: string; readonly enabled?: boolean }[];
  /** The store's SQLite file: the telemetry queue goes beside it. */
  readonly storagePath: string;
  /** The ramp the site applies (setGradW, ramp.ts), undefined while none. */
  readonly setGradW?: () => number | undefined;
}

export type ReportingOptions = Pick<CsipClientOptions, 'ders' | 'telemetry' | 'register' | 'connectionPointId' | 'telemetryQueue'>;

export function siteReporting(
  config: CsipConfig,
  image: ProcessImage,
  clock: () => number,
  src: SiteReportingSource,
): { options: ReportingOptions; close(): void } {
  const r = config.reporting;
  const control = src.control?.enabled === false ? undefined : src.control;
  const assets = control?.assets ?? [];
  // Only the inverter components of SunSpec devices (a device's meter component is not a DER).
  const sunspecDers = src.sunspec.components().filter((c) => src.sunspec.device(c) !== undefined);
  const minSoc = new Map((control?.safety.batteries ?? []).map((b) => [b.component, b.socMinPct]));
  const ders = siteDers(assets, sunspecDers, minSoc);
  const grid = assets.find((a) => a.type === 'grid-meter')?.component;
  const estop = control?.emergencyStop;
  const components = [
    ...new Set([UTILITY_COMPONENT, ...(grid ? [grid] : []), ...ders.map((d) => d.component), ...(estop ? [estop.channel.split('/')[0] ?? ''] : [])]),
  ];
  const input = (): SiteReportInput => {
    const channels = new Map<string, ChannelValue>();
    for (const c of components) for (const [ch, v] of Object.entries(image.component(c))) channels.set(`${c}/${ch}`, v);
    return {
      snapshot: { takenAt: clock(), channels },
      ders,
      models: (c) => src.sunspec.models(c),
      grid,
      utilityLimits: (src.controllers?.() ?? control?.controllers ?? []).some((c) => c.kind === 'utility-limits' && c.enabled !== false),
      ...(estop ? { emergencyStop: { channel: estop.channel, pressedValue: estop.pressedValue } } : {}),
      maxAgeMs: r.maxAgeMs,
      setGradW: src.setGradW?.(),
    };
  };
  let queue: TelemetryQueue | undefined;
  if (r.telemetry)
    queue = r.queue.durable
      ? new SqliteTelemetryQueue(r.queue.path ?? path.join(path.dirname(src.storagePath), 'csip-telemetry.db'), r.queue.maxSamples)
      : new MemoryTelemetryQueue(r.queue.maxSamples);
  const options: ReportingOptions = {
    ...(r.ders && ders.length > 0 ? { ders: () => derReports(input()) } : {}),
    ...(r.telemetry && queue ? { telemetry: () => telemetryReport(input()), telemetryQueue: queue } : {}),
    ...(config.register ? { register: { deviceCategory: config.register.deviceCategory } } : {}),
    ...(config.connectionPointId !== undefined ? { connectionPointId: config.connectionPointId } : {}),
  };
  return { options, close: () => queue?.close() };
}
