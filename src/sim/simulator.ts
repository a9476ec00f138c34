import type { DeviceProfile } from '../drivers/profile-schema.js';
import { systemClock } from '../util/clock.js';
import { loadProfiles } from '../drivers/profiles.js';
import { SimulatedMeter } from './meter-image.js';
import { RtuSlave, type LineSpeed } from './rtu-slave.js';
import { SiteModel, type Clock, type SiteModelOptions } from './site-model.js';
import { MAIN_METER_ID, planCustomers } from './site-plan.js';
import { serveModbusTcp, serveRtuOverTcp, serveSerial, type Listener, type SerialEndpoint, type SerialOptions } from './transports.js';

/**
 * A simulated mini-grid on one RS-485 bus, reachable over real Modbus: RTU over TCP (always),
 * Modbus TCP (optional) and serial devices (optional). The model advances lazily to the clock's "now"
 * whenever a request is served, so energy counters are right whenever anyone looks.
 */
export interface SimulatorOptions {
  readonly seed?: number;
  readonly customers?: number;
  readonly clock?: Clock;
  /** Start of simulated time (default: the clock's now); an earlier start lets history be back-filled. */
  readonly startMs?: number;
  readonly utcOffsetHours?: number;
  readonly electrical?: SiteModelOptions['electrical'];
  /** Emulate RS-485 wire time; omit (or false) to answer at once. */
  readonly lineSpeed?: LineSpeed | false;
  readonly host?: string;
  /** RTU-over-TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Modbus TCP (MBAP) port: a number (0 = free one) to enable it. */
  readonly mbapPort?: number;
  /** Serial devices to serve the same bus on (e.g. a socat pty). */
  readonly serialPaths?: readonly string[];
  readonly serial?: SerialOptions;
  /** Profiles by upper-case model name; default: the built-in profiles. */
  readonly profiles?: ReadonlyMap<string, DeviceProfile>;
}

export interface SimulatorHandle {
  readonly model: SiteModel;
  readonly slave: RtuSlave;
  /** Simulated meters by model id (their commissioned address). */
  readonly meters: ReadonlyMap<number, SimulatedMeter>;
  readonly host: string;
  readonly rtuTcpPort: number;
  readonly mbapPort?: number;
  readonly serialPaths: readonly string[];
  close(): Promise<void>;
}

/** A meter entry for the site configuration (the shape of config.prod.yaml's meters list). */
export interface SimulatedMeterConfig {
  readonly id: number;
  readonly name: string;
  readonly type: '1phase' | '3phase';
  readonly role: 'main' | 'customer';
}

/** The meters a simulator with `customers` customers serves, as config entries (independent of the seed). */
export function simulatedMeterConfigs(customers = 24): SimulatedMeterConfig[] {
  return [
    { id: MAIN_METER_ID, name: 'main', type: '3phase', role: 'main' },
    ...planCustomers(customers).map((c) => ({ id: c.id, name: c.name, type: '1phase' as const, role: 'customer' as const })),
  ];
}

function profileFor(profiles: ReadonlyMap<string, DeviceProfile>, model: string): DeviceProfile {
  const p = profiles.get(model);
  if (!p) throw new Error(`the simulator needs the ${model} profile; loaded profiles: ${[...profiles.keys()].join(', ') || 'none'}`);
  return p;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const clock = options.clock ?? systemClock;
  const model = new SiteModel({ seed: options.seed, customers: options.customers, clock, startMs: options.startMs, utcOffsetHours: options.utcOffsetHours, electrical: options.electrical });
  const profiles = options.profiles ?? loadProfiles();
  const single = profileFor(profiles, 'DDSU666');
  const three = profileFor(profiles, 'DTSU666');
  const meters = new Map<number, SimulatedMeter>();
  for (const m of model.meters()) {
    meters.set(m.id, new SimulatedMeter({ profile: m.phases === 3 ? three : single, address: m.id, values: () => model.meterValues(m.id) }));
  }
  const slave = new RtuSlave(meters.values(), { lineSpeed: options.lineSpeed || undefined, beforeServe: () => model.update() });
  const host = options.host ?? '127.0.0.1';
  const opened: Array<Listener | SerialEndpoint> = [];
  const close = async (): Promise<void> => {
    slave.close();
    await Promise.all(opened.map((o) => o.close()));
  };
  try {
    const rtu = await serveRtuOverTcp(slave, host, options.port ?? 0);
    opened.push(rtu);
    const mbap = options.mbapPort === undefined ? undefined : await serveModbusTcp(slave, host, options.mbapPort);
    if (mbap) opened.push(mbap);
    for (const path of options.serialPaths ?? []) opened.push(await serveSerial(slave, path, options.serial));
    return { model, slave, meters, host, rtuTcpPort: rtu.port, mbapPort: mbap?.port, serialPaths: [...(options.serialPaths ?? [])], close };
  } catch (e) {
    await close();
    throw e;
  }
}
