import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SiteConfig } from '../../config/site-config.js';
import { BENCH_SERIAL_PREFIXES } from '../commissioning-config.js';
import { parseHostPort, type BenchLineSpec } from './line.js';

/**
 * What a bench converter may open. The converter is driven over the API by installers, so a port
 * or a TCP target is never taken as given: a port must resolve (links and `..` followed) to a
 * character device under an allowed prefix, and a TCP target must be a configured gateway. Without
 * this, "/dev/../etc/passwd" was opened and any host:port on the network could be reached.
 */
export interface BenchLinePolicy {
  readonly serialPrefixes: readonly string[];
  /** "host:port" of the gateways the bench may use. */
  readonly gateways: readonly string[];
}

export class BenchLineRefused extends RangeError {
  override name = 'BenchLineRefused';
}

/** The site's policy: its serial prefixes, its bench gateways and its rtu-over-tcp buses. */
export function benchLinePolicyFor(config: Pick<SiteConfig, 'buses' | 'commissioning'>): BenchLinePolicy {
  const buses = config.buses.flatMap((b) => (b.transport === 'rtu-over-tcp' ? [`${b.host}:${b.port}`] : []));
  const bench = config.commissioning.bench;
  return { serialPrefixes: bench.serialPrefixes, gateways: [...new Set([...bench.gateways, ...buses])] };
}

/** Serial devices by default, no TCP target (a site file names its gateways). */
export const DEFAULT_BENCH_POLICY: BenchLinePolicy = { serialPrefixes: BENCH_SERIAL_PREFIXES, gateways: [] };

function checkSerial(port: string, policy: BenchLinePolicy): string {
  const allowed = `allowed: a serial device whose real path starts with ${policy.serialPrefixes.join(', ')}`;
  if (!path.isAbsolute(port)) throw new BenchLineRefused(`port: "${port}" is not an absolute device path; ${allowed}`);
  let real: string;
  try {
    real = realpathSync(port);
  } catch {
    throw new BenchLineRefused(`port: "${port}" does not exist; ${allowed}`);
  }
  const via = real === port ? '' : ` (it resolves to ${real})`;
  // A prefix ends where a device name may go on (ttyUSB -> ttyUSB0), never across a folder.
  if (!policy.serialPrefixes.some((p) => real.startsWith(p) && !real.slice(p.length).includes('/')))
    throw new BenchLineRefused(`port: "${port}"${via} is not a bench serial device; ${allowed}`);
  if (!statSync(real).isCharacterDevice()) throw new BenchLineRefused(`port: "${port}"${via} is not a character device; ${allowed}`);
  return real;
}

function checkTcp(target: string, policy: BenchLinePolicy): string {
  let hp: { host: string; port: number };
  try {
    hp = parseHostPort(target);
  } catch {
    throw new BenchLineRefused(`tcp: expected HOST:PORT, found "${target}"`);
  }
  const key = `${hp.host.toLowerCase()}:${hp.port}`;
  if (!policy.gateways.some((g) => g.toLowerCase() === key)) {
    const allowed =
      policy.gateways.length > 0 ? policy.gateways.join(', ') : 'none (list them under commissioning.bench.gateways or as rtu-over-tcp buses in the site file)';
    throw new BenchLineRefused(`tcp: ${target} is not a configured gateway; allowed: ${allowed}`);
  }
  return target;
}

/**
 * The line to open: the serial device by its resolved path (what was checked is what is opened), or
 * the configured gateway. Throws BenchLineRefused, a sentence naming the field, what was found and
 * what is allowed.
 */
export function allowedBenchLine<S extends BenchLineSpec>(spec: S, policy: BenchLinePolicy): S {
  if (spec.port !== undefined) return { ...spec, port: checkSerial(spec.port, policy) };
  if (spec.tcp !== undefined) return { ...spec, tcp: checkTcp(spec.tcp, policy) };
  return spec;
}
