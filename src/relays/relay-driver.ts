import type { ModbusBus } from '../modbus/bus.js';
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
  ) {}

  open(channel: number): Promise<RelayResult> {
    return this.switchTo(channel, 'open');
  }

  close(channel: number): Promise<RelayResult> {
    return this.switchTo(channel, 'closed');
  }

  async state(channel: number): Promise<RelayState> {
    const [coil] = await this.bus.readCoils(this.unit, coilOf(this.model, channel), 1);
    if (coil === undefined) throw new RelayError(`relay module ${this.unit} returned no coil for channel ${channel}`, this.unit, channel);
    return coil === this.model.suppliedWhenCoil ? 'closed' : 'open';
  }

  private async switchTo(channel: number, want: RelayState): Promise<RelayResult> {
    const coil = coilOf(this.model, channel);
    const before = await this.state(channel);
    // Read first, write only on change (devices.md 3): relay contacts and module flash wear out.
    if (before === want) return { channel, before, after: before };
    const value = want === 'closed' ? this.model.suppliedWhenCoil : !this.model.suppliedWhenCoil;
    await this.bus.writeCoil(this.unit, coil, value);
    const after = await this.state(channel);
    if (after !== want) {
      throw new RelayError(`relay module ${this.unit} channel ${channel}: wrote ${want} (coil ${coil} = ${value}) but it reads back ${after}`, this.unit, channel);
    }
    return { channel, before, after };
  }
}
