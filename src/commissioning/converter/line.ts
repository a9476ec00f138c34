import type { BusConfig } from '../../config/site-config.js';
import { DLT645_FACTORY_LINE, Dlt645Link } from '../../dlt645/link.js';
import { lineName } from '../../dlt645/transport.js';
import { ModbusBus } from '../../modbus/bus.js';
import type { LineSettings } from '../../modbus/wire-time.js';
import { MODBUS_BENCH_LINE } from '../../dlt645/converter-registers.js';

/**
 * The bench line: a dedicated USB-RS485 adapter ("NOT production", the field guide) or a transparent
 * RS-485-to-Ethernet gateway. One meter on it. DL/T645 and Modbus use it in turn, never together:
 * on a serial port each side opens it with its own framing (9600 E.1, then 9600 8N2). A gateway's
 * framing is set in the gateway, so with --tcp it must be switched there between the two phases
 * (the simulator ignores framing).
 */
export interface BenchLineSpec {
  /** "host:port" of a transparent gateway (or the simulated bench). */
  readonly tcp?: string;
  /** Serial device, e.g. /dev/ttyUSB0. */
  readonly port?: string;
  /** Reply timeout per request (default 1000 ms). */
  readonly timeoutMs?: number;
  readonly dlt645Line?: LineSettings;
  readonly modbusLine?: LineSettings;
}

export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i);
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`expected HOST:PORT, got "${s}"`);
  return { host, port };
}

export function checkLine(spec: BenchLineSpec): void {
  if ((spec.tcp === undefined) === (spec.port === undefined)) throw new RangeError('give exactly one of a serial port or a tcp HOST:PORT for the bench line');
  if (spec.tcp !== undefined) parseHostPort(spec.tcp);
}

export function describeLine(spec: BenchLineSpec, protocol: 'dlt645' | 'modbus'): string {
  const line = protocol === 'dlt645' ? (spec.dlt645Line ?? DLT645_FACTORY_LINE) : (spec.modbusLine ?? MODBUS_BENCH_LINE);
  return `${spec.port ?? `tcp ${spec.tcp ?? '?'}`} ${lineName(line)}`;
}

export async function openDlt645(spec: BenchLineSpec): Promise<Dlt645Link> {
  checkLine(spec);
  const options = { timeoutMs: spec.timeoutMs ?? 1000 };
  if (spec.port !== undefined) return Dlt645Link.openSerial(spec.port, spec.dlt645Line ?? DLT645_FACTORY_LINE, options);
  const { host, port } = parseHostPort(spec.tcp ?? '');
  return Dlt645Link.openTcp(host, port, options);
}

/** A Modbus bus on the bench line; `line` overrides the framing (e.g. after a protocol change). */
export function openModbus(spec: BenchLineSpec, line: LineSettings = spec.modbusLine ?? MODBUS_BENCH_LINE): ModbusBus {
  checkLine(spec);
  const timeoutMs = spec.timeoutMs ?? 1000;
  const config: BusConfig =
    spec.port !== undefined
      ? { id: 'bench', transport: 'rtu', path: spec.port, ...line, dataBits: 8, timeoutMs, retries: 0 }
      : { id: 'bench', transport: 'rtu-over-tcp', ...parseHostPort(spec.tcp ?? ''), ...line, timeoutMs, retries: 0 };
  return new ModbusBus(config);
}
