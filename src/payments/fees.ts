/**
 * Fee tables. docs/payments.md#fees: no current official tariff was found for any provider, so fees are
 * effective-dated configuration per provider, never hard-coded.
 */
export type FeeBearer = 'customer' | 'operator';

export interface FeeBand {
  /** Inclusive upper bound of the band in minor units; null = no upper bound. */
  readonly upToMinor: number | null;
  readonly fixedMinor: number;
  /** Percentage of the amount in basis points (1 % = 100). */
  readonly percentBp: number;
}

export interface FeeSchedule {
  /** Epoch ms from which this schedule applies. */
  readonly effectiveFromMs: number;
  readonly bands: readonly FeeBand[];
}

export interface FeeConfig {
  readonly bearer: FeeBearer;
  readonly schedules: readonly FeeSchedule[];
}

export const NO_FEES: FeeConfig = { bearer: 'operator', schedules: [] };

/** The fee for an amount under the schedule in force at `atMs`; rounded up to a whole minor unit. */
export function feeFor(config: FeeConfig, amountMinor: number, atMs: number): number {
  const schedule = [...config.schedules].filter((s) => s.effectiveFromMs <= atMs).sort((a, b) => b.effectiveFromMs - a.effectiveFromMs)[0];
  if (!schedule) return 0;
  const band = schedule.bands.find((b) => b.upToMinor === null || amountMinor <= b.upToMinor);
  if (!band) throw new Error(`no fee band covers ${amountMinor}`);
  return band.fixedMinor + Math.ceil((amountMinor * band.percentBp) / 10_000);
}

export interface Quote {
  /** What the customer asked to pay for. */
  readonly amountMinor: number;
  readonly feeMinor: number;
  /** What the provider collects from the payer's wallet. */
  readonly payerPaysMinor: number;
  /** What lands on the customer's account. */
  readonly creditMinor: number;
  readonly bearer: FeeBearer;
}

/**
 * customer bears: the fee is added on top, the customer is credited the full amount.
 * operator bears: the payer pays the amount and is credited the full amount; the fee is the operator's cost.
 */
export function quoteFor(config: FeeConfig, amountMinor: number, atMs: number): Quote {
  const feeMinor = feeFor(config, amountMinor, atMs);
  const payerPaysMinor = config.bearer === 'customer' ? amountMinor + feeMinor : amountMinor;
  return { amountMinor, feeMinor, payerPaysMinor, creditMinor: amountMinor, bearer: config.bearer };
}

/** Account credit for a verified gross collection: the fee comes off only when the customer bears it. */
export function creditFor(grossMinor: number, feeMinor: number, bearer: FeeBearer): number {
  return bearer === 'customer' ? grossMinor - feeMinor : grossMinor;
}

/** What every provider does with its fee table: say who bears the fee, and quote a payment. */
export abstract class FeeQuoting {
  protected abstract get feeConfig(): FeeConfig;

  get feeBearer(): FeeBearer {
    return this.feeConfig.bearer;
  }

  quote(amountMinor: number, _currency: string, atMs = Date.now()): Quote {
    return quoteFor(this.feeConfig, amountMinor, atMs);
  }
}
