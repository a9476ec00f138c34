import type { DeviceProfile } from '../drivers/profile-schema.js';
import { systemClock } from '../util/clock.js';
import { loadProfiles } from '../drivers/profiles.js';
import { SimulatedMeter } from './meter-image.js';
import { RtuSlave, type LineSpeed } from './rtu-slave.js';
import { SiteModel, type Clock, type SiteModelOptions } from './site-model.js';
import { MAIN_METER_ID, planCustomers } from './site-plan.js';
import { serveModbusTcp, serveRtuOverTcp, serveSerial, type Listener, type SerialEndpoint, type SerialOptions } from './transports.js';
import { loadDeviceProfiles } from '../drivers/profiles.js';
import type { EnergySystem, EnergySystemSpec } from './energy-system.js';
import { energyDevices } from './energy-devices.js';
import type { ProfileDevice } from './profile-device.js';
import type { FrequencyPoint } from './grid-frequency.js';

/**
 * The site's inverter (and generator) on their own line, reached over Modbus TCP (and RTU over TCP):
 * an SRNE is wired to its own RS-485 port at 9600 8N1 and must not share the meters' bus timing.
 */
export interface SimulatedEnergyOptions {
  readonly spec: EnergySystemSpec;
  /** Modbus address of the inverter on its line (SRNE default 1). */
  readonly inverterAddress?: number;
  /** Address of the generator controller on the same line (default 2); only with spec.generator. */
  readonly generatorAddress?: number;
  /**
   * Address of a second DTSU666 at the connection point on the inverter's line (default 3; 0 = none):
   * the meter a hybrid inverter's zero-export loop reads, polled every control cycle (the main meter on
   * the customers' bus is read every 10 s for billing). It sees the same site as the main meter.
   */
  readonly gridMeterAddress?: number;
  /** SRNE model family (a profile variant: HF, ASF, ASP, SPLIT_EU, HESP). */
  readonly srneVariant?: string;
  /** Modbus TCP port of the inverter line (0 = a free one). */
  readonly mbapPort?: number;
  /** RTU-over-TCP port of the inverter line (0 = a free one). */
  readonly rtuTcpPort?: number;
  readonly lineSpeed?: LineSpeed | false;
  /** Storage profiles by upper-case model; default the built-in profiles/storage. */
  readonly profiles?: ReadonlyMap<string, DeviceProfile>;
}

/** The inverter line of a simulator with an energy system, and its fault injection. */
export interface SimulatedEnergyHandle {
  readonly system: EnergySystem;
  readonly slave: RtuSlave;
  readonly inverter: ProfileDevice;
  readonly generator?: ProfileDevice;
  readonly mbapPort: number;
  readonly rtuTcpPort: number;
  /** The utility supply fails (false) or comes back (true): the site islands at once. */
  setGridConnected(up: boolean): void;
  /** The inverter stops answering on Modbus (false) or answers again (true). */
  setInverterComms(ok: boolean): void;
  /** The emergency stop input: every asset to its safe state while pressed. */
  setEmergencyStop(pressed: boolean): void;
  /** Start or stop the generator (its start delay applies). */
  setGeneratorRunning(run: boolean): void;
  /** The grid meter on the inverter line stops answering (false) or answers again (true). */
  setGridMeterComms(ok: boolean): void;
  /** Tests and benchmarks: force the PV available per phase (W), a step; null = sun and clouds again. */
  setPvAvailable(w: Partial<Record<'L1' | 'L2' | 'L3', number>> | null): void;
  /** Tests: the battery's SoC jumps to `fraction` (0..1), as after hours of use. */
  setSoc(fraction: number): void;
  /** The utility's frequency pinned (Hz), served by both meters; null = nominal 50 Hz with its slow wander. */
  setGridFrequency(hz: number | null): void;
  /** A scripted excursion of the utility's frequency from now: linear between the points, the last held. */
  setFrequencyExcursion(points: readonly FrequencyPoint[]): void;
  /** What the grid-forming inverter makes while islanded (null = nominal 50 Hz). */
  setIslandFrequency(hz: number | null): void;
}

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
  /** A battery inverter, PV and generator at the main bus, on their own Modbus line (issue 10). */
  readonly energy?: SimulatedEnergyOptions;
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
  /** Present when the site has an energy system. */
  readonly energy?: SimulatedEnergyHandle;
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
  const model = new SiteModel({
    seed: options.seed,
    customers: options.customers,
    clock,
    startMs: options.startMs,
    utcOffsetHours: options.utcOffsetHours,
    electrical: options.electrical,
    energy: options.energy?.spec,
  });
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
  const slaves: RtuSlave[] = [];
  const close = async (): Promise<void> => {
    slave.close();
    for (const x of slaves) x.close();
    await Promise.all(opened.map((o) => o.close()));
  };
  try {
    const rtu = await serveRtuOverTcp(slave, host, options.port ?? 0);
    opened.push(rtu);
    const mbap = options.mbapPort === undefined ? undefined : await serveModbusTcp(slave, host, options.mbapPort);
    if (mbap) opened.push(mbap);
    for (const path of options.serialPaths ?? []) opened.push(await serveSerial(slave, path, options.serial));
    const energy = options.energy ? await startEnergyLine(model, options.energy, host, opened, slaves) : undefined;
    return { model, slave, meters, host, rtuTcpPort: rtu.port, mbapPort: mbap?.port, serialPaths: [...(options.serialPaths ?? [])], energy, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function startEnergyLine(
  model: SiteModel,
  o: SimulatedEnergyOptions,
  host: string,
  opened: Array<Listener | SerialEndpoint>,
  slaves: RtuSlave[],
): Promise<SimulatedEnergyHandle> {
  const system = model.energy;
  if (!system) throw new Error('the site model has no energy system');
  const inverterAddress = o.inverterAddress ?? 1;
  const devices = energyDevices(model, o.profiles ?? loadDeviceProfiles(), {
    inverterAddress,
    generatorAddress: o.generatorAddress ?? 2,
    srneVariant: o.srneVariant,
  });
  const gridMeterAddress = o.gridMeterAddress ?? 3;
  const dtsu = (o.profiles?.get('DTSU666') ? o.profiles : loadProfiles()).get('DTSU666');
  // The PCC meter sits on the grid side of the point where the site islands: while the utility is down it
  // reads a dead grid (0 V, 0 Hz, 0 W), which is how the backup reserve sees the loss. The billing main
  // meter keeps the island's voltage and frequency, as a meter on the site side would.
  const pccValues = (): Record<string, number> | undefined => {
    const v = model.meterValues(model.mainId);
    if (!v || system.gridConnected) return v;
    const dead: Record<string, number> = { ...v };
    for (const k of Object.keys(dead)) if (!k.startsWith('Energy') && k !== 'PowerFactor' && !k.startsWith('PowerFactor_')) dead[k] = 0;
    return dead;
  };
  const gridMeter = gridMeterAddress > 0 && dtsu ? [new SimulatedMeter({ profile: dtsu, address: gridMeterAddress, values: pccValues })] : [];
  const slave = new RtuSlave([devices.inverter, ...(devices.generator ? [devices.generator] : []), ...gridMeter], {
    lineSpeed: o.lineSpeed || undefined,
    beforeServe: () => model.update(),
  });
  slaves.push(slave);
  const mbap = await serveModbusTcp(slave, host, o.mbapPort ?? 0);
  opened.push(mbap);
  const rtu = await serveRtuOverTcp(slave, host, o.rtuTcpPort ?? 0);
  opened.push(rtu);
  return {
    system,
    slave,
    inverter: devices.inverter,
    generator: devices.generator,
    mbapPort: mbap.port,
    rtuTcpPort: rtu.port,
    setGridConnected: (up) => {
      model.update();
      model.setGridConnected(up);
    },
    setInverterComms: (ok) => (ok ? slave.restore(inverterAddress) : slave.silence(inverterAddress)),
    setEmergencyStop: (pressed) => {
      model.update();
      system.setEmergencyStop(pressed);
      model.refresh();
    },
    setGeneratorRunning: (run) => {
      model.update();
      system.setGeneratorRunning(run, model.timeMs);
    },
    setGridMeterComms: (ok) => (gridMeterAddress > 0 ? (ok ? slave.restore(gridMeterAddress) : slave.silence(gridMeterAddress)) : undefined),
    setPvAvailable: (w) => {
      model.update();
      system.pvOverrideW = w;
      model.refresh();
    },
    setSoc: (fraction) => {
      model.update();
      system.setSoc(fraction);
      model.refresh();
    },
    setGridFrequency: (hz) => {
      model.update();
      model.setGridFrequency(hz);
    },
    setFrequencyExcursion: (points) => {
      model.update();
      model.setFrequencyExcursion(points);
    },
    setIslandFrequency: (hz) => {
      model.update();
      model.setIslandFrequency(hz);
    },
  };
}
