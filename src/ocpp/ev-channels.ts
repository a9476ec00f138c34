import type { ProcessImage } from '../channels/process-image.js';

/**
 * What the central system knows of each charger, as channels of the process image, so the edge cycle
 * reads chargers like any other measurement (docs/ocpp.md "Channels"). Component: the one the edge
 * cycle's `ev-charger` asset names for that charger id, else `ev<id>` (lower-cased, other characters
 * than a-z and 0-9 as `_`):
 * - `ActivePower`: W the car draws (MeterValues `Power.Active.Import`), 0 without a transaction;
 * - `ChargeLimitW`: the limit the charger says it applies (`Power.Offered`), else the one last accepted;
 * - `Status`: the connector status as a code (EV_STATUS), `Transaction`: 1 while a transaction runs.
 * Each is timestamped when the charger said it; a charger that disconnects turns its channels ERROR.
 */
export const EV_CHANNEL = {
  power: 'ActivePower',
  limit: 'ChargeLimitW',
  status: 'Status',
  transaction: 'Transaction',
} as const;

/** OCPP 1.6 ChargePointStatus as numbers (the image holds numbers only). */
export const EV_STATUS: Readonly<Record<string, number>> = {
  Available: 0,
  Preparing: 1,
  Charging: 2,
  SuspendedEV: 3,
  SuspendedEVSE: 4,
  Finishing: 5,
  Reserved: 6,
  Unavailable: 7,
  Faulted: 8,
};

/** The default component name of a charger. */
export const evComponentOf = (chargerId: string): string => `ev${chargerId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;

/** How long a value is GOOD without news (the image's own staleness): MeterValues come every minute or so. */
const PERIOD_MS = 60_000;

export class EvChannels {
  constructor(
    private readonly image: Pick<ProcessImage, 'update' | 'markFailed'>,
    private readonly componentOf: (chargerId: string) => string,
  ) {}

  write(chargerId: string, values: Partial<Record<keyof typeof EV_CHANNEL, number>>, ts: number): void {
    const out: Record<string, number> = {};
    for (const k of Object.keys(EV_CHANNEL) as Array<keyof typeof EV_CHANNEL>) {
      const v = values[k];
      if (v !== undefined && Number.isFinite(v)) out[EV_CHANNEL[k]] = v;
    }
    if (Object.keys(out).length) this.image.update(this.componentOf(chargerId), out, ts, PERIOD_MS);
  }

  lost(chargerId: string, ts: number): void {
    this.image.markFailed(this.componentOf(chargerId), ts);
  }
}
