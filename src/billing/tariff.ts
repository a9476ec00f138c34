import { z } from 'zod';
import { CURRENCY_CODES } from './money.js';

/**
 * Tariffs as data. A tariff has versions; each applies from its effectiveFrom (a local day in the
 * site time zone, at local midnight) until the next version. Prices: see price.ts (1/10,000 minor
 * unit per kWh, integers). A version is never edited once saved: a change is a new version.
 */
const Price = z.number().int().nonnegative().max(1e12);
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const Minute = z.number().int().min(0).max(1440);

const Flat = z.object({ kind: z.literal('flat'), priceE4: Price });

/** Blocks reset every local calendar month; upToKWh is the block's upper bound of month-to-date energy. */
const Block = z
  .object({
    kind: z.literal('block'),
    blocks: z.array(z.object({ upToKWh: z.number().positive().nullable(), priceE4: Price })).min(1),
  })
  .refine((b) => b.blocks.every((x, i) => (i === b.blocks.length - 1 ? x.upToKWh === null : x.upToKWh !== null && (i === 0 || x.upToKWh > (b.blocks[i - 1]?.upToKWh ?? 0)))), {
    message: 'block upper bounds must rise, and only the last block is open (upToKWh: null)',
  });

/**
 * Time of use: the first period that contains an interval's local start time (and weekday, 0 = Sunday,
 * when given) prices it; fromMinute > toMinute wraps midnight. Anything else gets otherwisePriceE4.
 */
const Tou = z.object({
  kind: z.literal('tou'),
  periods: z.array(z.object({ name: z.string().min(1), fromMinute: Minute, toMinute: Minute, weekdays: z.array(z.number().int().min(0).max(6)).optional(), priceE4: Price })),
  otherwisePriceE4: Price,
});

export const TaxSchema = z.object({
  name: z.string().min(1),
  /** Basis points: 1800 = 18 %. */
  rateBp: z.number().int().min(0).max(10_000),
  /** What the tax is levied on: energy lines, the fixed charge, and/or the named fees (lines of kind 'fee'). */
  base: z.array(z.enum(['energy', 'fixed', 'fees'])).min(1),
});

/** A named monthly fee (meter rental, service fee), in minor units per local calendar month; prorated like the fixed charge. */
export const FeeSchema = z.object({ name: z.string().min(1), amountMinor: z.number().int().nonnegative() });

export const TariffVersionSchema = z.object({
  version: z.number().int().positive(),
  effectiveFrom: Day,
  energy: z.discriminatedUnion('kind', [Flat, Block, Tou]),
  /** Per local calendar month, in minor units; prorated by days (rating.ts). */
  fixedMonthlyMinor: z.number().int().nonnegative().default(0),
  /**
   * Named monthly fees besides the fixed charge. Optional (absent = none), so stored tariffs saved before
   * fees existed load unchanged; an empty list and an absent one mean the same (tariff-store.ts).
   */
  fees: z.array(FeeSchema).optional(),
  taxes: z.array(TaxSchema).default([]),
});

export const TariffSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    currency: z.enum(CURRENCY_CODES),
    versions: z.array(TariffVersionSchema).min(1),
  })
  .refine((t) => t.versions.every((v, i) => i === 0 || (v.effectiveFrom > (t.versions[i - 1]?.effectiveFrom ?? '') && v.version > (t.versions[i - 1]?.version ?? 0))), {
    message: 'versions must be in order of rising version number and effectiveFrom',
  });

export type Tariff = z.infer<typeof TariffSchema>;
export type TariffVersion = z.infer<typeof TariffVersionSchema>;
export type Tax = z.infer<typeof TaxSchema>;
export type Fee = z.infer<typeof FeeSchema>;

export function parseTariff(input: unknown): Tariff {
  return TariffSchema.parse(input);
}
