/**
 * Relay modules as data, like the meter profiles: which coil a channel is and which coil value
 * means "supply on". Vendors call energised "open" (docs/devices.md#relay-modules), so we never use their words:
 * `suppliedWhenCoil` says by value what the customer sees.
 */
export interface RelayModel {
  readonly name: string;
  readonly channels: number;
  /** Coil address of channel 1 (Waveshare: 0; unbranded boards: 1). */
  readonly firstCoil: number;
  /** The coil value at which the customer's supply is on (true for NO wiring, false for NC). */
  readonly suppliedWhenCoil: boolean;
}

export const RELAY_MODELS = {
  /** Waveshare 8 ch, load on the NC contact: de-energised = supplied, so a dead module disconnects nobody. */
  'waveshare-8ch-nc': { name: 'waveshare-8ch-nc', channels: 8, firstCoil: 0, suppliedWhenCoil: false },
  'waveshare-8ch-no': { name: 'waveshare-8ch-no', channels: 8, firstCoil: 0, suppliedWhenCoil: true },
  /** Unbranded boards with 1-based coils (docs/devices.md#unbranded-boards); probe before deploying. */
  'unbranded-4ch-no': { name: 'unbranded-4ch-no', channels: 4, firstCoil: 1, suppliedWhenCoil: true },
} as const satisfies Record<string, RelayModel>;

export type RelayModelName = keyof typeof RELAY_MODELS;

/** The coil of a 1-based channel, or a RangeError naming the valid channels. */
export function coilOf(model: RelayModel, channel: number): number {
  if (!Number.isInteger(channel) || channel < 1 || channel > model.channels) {
    throw new RangeError(`${model.name} has channels 1-${model.channels}; got ${channel}`);
  }
  return model.firstCoil + channel - 1;
}
