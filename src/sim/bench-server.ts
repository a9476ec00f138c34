import { BenchSlave } from './bench-slave.js';
import { FactoryMeter, type FactoryMeterOptions } from './factory-meter.js';
import type { LineSpeed } from './rtu-slave.js';
import { serveRtuOverTcp, serveSerial, type Listener, type SerialEndpoint, type SerialOptions } from './transports.js';

/**
 * A simulated lab bench: one factory-fresh meter reachable over TCP (like a transparent RS-485
 * gateway; port 0 = a free one) and optionally on serial devices (e.g. one end of a socat pty pair).
 */
export interface BenchOptions {
  readonly host?: string;
  readonly port?: number;
  readonly serialPaths?: readonly string[];
  /** Port settings for serial paths; a pty ignores them, so they only matter on a real adapter. */
  readonly serial?: SerialOptions;
  readonly lineSpeed?: LineSpeed;
}

export interface BenchHandle {
  readonly meter: FactoryMeter;
  readonly slave: BenchSlave;
  readonly host: string;
  readonly port: number;
  /** "host:port" for a converter line spec. */
  readonly tcp: string;
  readonly serialPaths: readonly string[];
  close(): Promise<void>;
}

export async function serveBench(meter: FactoryMeter | FactoryMeterOptions, o: BenchOptions = {}): Promise<BenchHandle> {
  const m = meter instanceof FactoryMeter ? meter : new FactoryMeter(meter);
  const slave = new BenchSlave(m, { lineSpeed: o.lineSpeed });
  const opened: Array<Listener | SerialEndpoint> = [];
  const close = async (): Promise<void> => {
    slave.close();
    await Promise.all(opened.map((x) => x.close()));
  };
  try {
    const host = o.host ?? '127.0.0.1';
    const tcp = await serveRtuOverTcp(slave, host, o.port ?? 0);
    opened.push(tcp);
    for (const path of o.serialPaths ?? []) opened.push(await serveSerial(slave, path, o.serial));
    return { meter: m, slave, host, port: tcp.port, tcp: `${host}:${tcp.port}`, serialPaths: [...(o.serialPaths ?? [])], close };
  } catch (e) {
    await close();
    throw e;
  }
}
