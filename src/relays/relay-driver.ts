import type { ModbusBus } from '../modbus/bus.js';
import { ModbusError } from '../modbus/modbus-error.js';
import { RelayRefused, type RelayWriteGuard } from './relay-guard.js';
import { coilOf, type RelayModel } from './relay-models.js';

/** 'closed' = the customer is supplied; 'open' = disconnected (electrical meaning, not the vendor's). */
export type RelayState = 'open' | 'closed';

export type CoilBus = Pick<ModbusBus, 'readCoils' | 'writeCoil'>;

/** A command the relay did not carry out: the read-back disagrees with what was written. */
export class RelayError extends Error {
  constructor(
    message: string,
    readonly unit: number,
    readonly channel: number,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

/** Something wrong with a relay that a person should see (docs/devices.md#write-wear: alarm on mismatch or exception). */
export interface RelayFault {
  /** mismatch: the read-back disagrees with the write; exception: the module answered a Modbus exception; refused: the guard stopped a write. */
  readonly kind: 'mismatch' | 'exception' | 'refused';
  /** The module's name as the guard counts it (default `unit <n>`). */
  readonly module: string;
  readonly unit: number;
  readonly channel: number;
  readonly message: string;
  readonly exceptionCode?: number;
}

export interface RelayDriverOptions {
  /** Wear protection: minimum dwell and a persisted daily write budget per channel. */
  readonly guard?: RelayWriteGuard;
  /** Where faults go (an alarm); errors thrown by the listener are ignored. */
  readonly onFault?: (f: RelayFault) => void;
  /** The module's name in the guard's table and in faults, unique on the site (e.g. `bus1/200`). Default `unit <n>`. */
  readonly name?: string;
}

export interface SwitchOptions {
  /** A safety action (load shedding when the site islands, and its restore): counted by the guard, never refused. */
  readonly safety?: boolean;
}

export interface RelayResult {
  readonly channel: number;
  readonly before: RelayState;
  readonly after: RelayState;
}

/**
 * One relay module on a bus. Every switch is written as an absolute value (never a toggle, which a
 * retry would invert) and then read back: a relay command is never assumed to have worked.
 */
export class RelayDriver {
  constructor(
    private readonly bus: CoilBus,
    readonly unit: number,
    readonly model: RelayModel,
    private readonly opts: RelayDriverOptions = {},
  ) {}

  /** The module's name in the guard's table and in faults. */
  get name(): string {
    return this.opts.name ?? `unit ${this.unit}`;
  }

  /** `safety`: a load-shedding switch that the wear guard counts but never refuses (RelayWriteGuard.check). */
  open(channel: number, o: SwitchOptions = {}): Promise<RelayResult> {
    return this.switchTo(channel, 'open', o);
  }

  close(channel: number, o: SwitchOptions = {}): Promise<RelayResult> {
    return this.switchTo(channel, 'closed', o);
  }

  async state(channel: number): Promise<RelayState> {
    const [coil] = await this.bus.readCoils(this.unit, coilOf(this.model, channel), 1);
    if (coil === undefined) throw new RelayError(`relay module ${this.unit} returned no coil for channel ${channel}`, this.unit, channel);
    return coil === this.model.suppliedWhenCoil ? 'closed' : 'open';
  }

  private async switchTo(channel: number, want: RelayState, o: SwitchOptions): Promise<RelayResult> {
    try {
      return await this.switchChecked(channel, want, o);
    } catch (e) {
      if (e instanceof RelayRefused) this.fault({ kind: 'refused', channel, message: e.message });
      else if (e instanceof RelayError) this.fault({ kind: 'mismatch', channel, message: e.message });
      else if (e instanceof ModbusError && e.kind === 'exception') {
        this.fault({
          kind: 'exception',
          channel,
          message: `relay module ${this.unit} channel ${channel}: Modbus exception ${e.exceptionCode ?? '?'}: ${e.message}`,
          ...(e.exceptionCode === undefined ? {} : { exceptionCode: e.exceptionCode }),
        });
      }
      throw e;
    }
  }

  private async switchChecked(channel: number, want: RelayState, o: SwitchOptions): Promise<RelayResult> {
    const coil = coilOf(this.model, channel);
    const before = await this.state(channel);
    // Read first, write only on change (docs/devices.md#write-wear): relay contacts and module flash wear out.
    if (before === want) return { channel, before, after: before };
    const guard = this.opts.guard;
    if (guard) {
      guard.check(this.name, channel, want, o);
      guard.record(this.name, channel);
    }
    const value = want === 'closed' ? this.model.suppliedWhenCoil : !this.model.suppliedWhenCoil;
    await this.bus.writeCoil(this.unit, coil, value);
    const after = await this.state(channel);
    if (after !== want) {
      throw new RelayError(
        `relay module ${this.unit} channel ${channel}: wrote ${want} (coil ${coil} = ${value}) but it reads back ${after}`,
        this.unit,
        channel,
      );
    }
    return { channel, before, after };
  }

  private fault(f: Omit<RelayFault, 'module' | 'unit'>): void {
    try {
      this.opts.onFault?.({ ...f, module: this.name, unit: this.unit });
    } catch {
      // an alarm sink that fails must not hide the relay's own error
    }
  }
}
