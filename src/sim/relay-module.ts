import { EXCEPTION, refuse, type ModbusRefusal, type RegisterDevice } from './device.js';
import type { SiteModel } from './site-model.js';

/**
 * A Waveshare-style Modbus RTU relay module (Waveshare wiki "Modbus RTU Relay"): coils 0..N-1 are relays
 * 1..N, FC01 reads them, FC05 writes one (0xFF00 on, 0x0000 off, 0x5500 toggle), FC15 writes many.
 * Each channel may be wired to a customer's load in the site model, so switching a relay really
 * cuts (or restores) what that customer's meter measures.
 *
 * Power-on: every coil off (de-energised), as the Waveshare module starts. With the default
 * normally-closed wiring a de-energised relay carries the supply, so a module that loses power or
 * restarts leaves customers supplied (docs/devices.md#write-wear, fail safe).
 */
export type RelayWiring = 'nc' | 'no';

export interface SimulatedRelayModuleOptions {
  readonly address: number;
  readonly channels: number;
  readonly model: SiteModel;
  /** Customer meter id per channel (index 0 = relay 1); undefined leaves a channel unwired. */
  readonly wiredTo: ReadonlyArray<number | undefined>;
  /** 'nc' (default): the load is supplied while the coil is off. 'no': supplied while it is on. */
  readonly wiring?: RelayWiring;
}

const ON = 0xff00;
const OFF = 0x0000;
const TOGGLE = 0x5500;

export class SimulatedRelayModule implements RegisterDevice {
  readonly address: number;
  private readonly coils: boolean[];
  /** Fault injection: acknowledge writes but keep the relays as they are (a stuck relay). */
  ignoreWrites = false;

  constructor(private readonly options: SimulatedRelayModuleOptions) {
    this.address = options.address;
    this.coils = Array.from({ length: options.channels }, () => false);
    this.apply();
  }

  /** The coil state of a channel (0-based), for tests. */
  coil(channel: number): boolean {
    return this.coils[channel] ?? false;
  }

  /** A relay module has no meter registers. */
  readRegisters(): ModbusRefusal {
    return refuse(EXCEPTION.illegalDataAddress);
  }

  writeRegisters(): ModbusRefusal {
    return refuse(EXCEPTION.illegalDataAddress);
  }

  readCoils(start: number, count: number): boolean[] | ModbusRefusal {
    if (start + count > this.coils.length) return refuse(EXCEPTION.illegalDataAddress);
    return this.coils.slice(start, start + count);
  }

  writeSingleCoil(coil: number, value: number): ModbusRefusal | undefined {
    if (coil >= this.coils.length) return refuse(EXCEPTION.illegalDataAddress);
    if (value !== ON && value !== OFF && value !== TOGGLE) return refuse(EXCEPTION.illegalDataValue);
    const next = value === TOGGLE ? !this.coils[coil] : value === ON;
    this.set(coil, [next]);
    return undefined;
  }

  writeCoils(start: number, states: readonly boolean[]): ModbusRefusal | undefined {
    if (start + states.length > this.coils.length) return refuse(EXCEPTION.illegalDataAddress);
    this.set(start, states);
    return undefined;
  }

  private set(start: number, states: readonly boolean[]): void {
    if (this.ignoreWrites) return;
    states.forEach((s, i) => (this.coils[start + i] = s));
    this.apply();
  }

  /** Drives the wired loads from the coils. */
  private apply(): void {
    const nc = (this.options.wiring ?? 'nc') === 'nc';
    this.options.wiredTo.forEach((meterId, ch) => {
      if (meterId === undefined) return;
      const supplied = nc ? !this.coils[ch] : this.coils[ch] === true;
      if (this.options.model.isLoadConnected(meterId) !== supplied) this.options.model.setLoadConnected(meterId, supplied);
    });
  }
}

/** Puts a relay module on a running simulator's bus, one channel per listed customer meter. */
export function addRelayModule(
  sim: { model: SiteModel; slave: { addDevice(d: RegisterDevice): void } },
  opts: { address: number; wiredTo: ReadonlyArray<number | undefined>; channels?: number; wiring?: RelayWiring },
): SimulatedRelayModule {
  const module = new SimulatedRelayModule({
    address: opts.address,
    channels: opts.channels ?? 8,
    model: sim.model,
    wiredTo: opts.wiredTo,
    wiring: opts.wiring,
  });
  sim.slave.addDevice(module);
  return module;
}
