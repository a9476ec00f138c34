import { usages, type Procedure } from './procedure.js';

/**
 * Procedures for an aggregator client, which this project's client is not: it is a device client with
 * one device certificate and one EndDevice (its own LFDI), so it can neither act as envoy's aggregator
 * EndDevice (/edev/0, where an aggregator subscribes to the EndDeviceList) nor register several
 * EndDevices. Such a procedure is listed as not run with the reason, never failed or passed.
 */

const DEVICE_CLIENT = "this project's client is a device client (one device certificate, one EndDevice), not an aggregator";

/** Why the procedure is outside this client's scope (empty: it is within). */
export function scopeUnsupported(p: Procedure): string[] {
  const out: string[] = [];
  const aggregatorPaths = Object.values(p.Steps).flatMap((s) => {
    const e = s.event.parameters['endpoint'];
    return typeof e === 'string' && /^\/edev\/0(\/|$)/.test(e) ? [e] : [];
  });
  if (aggregatorPaths.length > 0) out.push(`requests to the aggregator's EndDevice (${[...new Set(aggregatorPaths)].join(', ')}): ${DEVICE_CLIENT}`);
  const several = usages(p).checks.some((c) => c.type === 'end-device-count' && Number(c.parameters['minimum_count'] ?? 0) > 1);
  if (several) out.push(`several EndDevices registered by one client: ${DEVICE_CLIENT}`);
  return out;
}
