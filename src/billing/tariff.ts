import { z } from '#zod';
import { CURRENCY_CODES } from './money.js';

/**
 * Tariffs as data. A tariff has versions; each applies from its effectiveFrom (a local day in the
 * site time zone, at local midnight) until the next version. Prices: see price.ts (1/10,000 minor
 * unit per kWh, integers). A version is never edited once saved: a change is a new version.
 */
/**
 * Bounds: whatever a tariff holds must still rate into safe integers for any month a meter can record,
 * so a price is at most 1,000,000 minor units per kWh and a monthly amount at most 10^10 minor units.
 */
export const MAX_PRICE_E4 = 10_000_000_000;
export const MAX_MONTHLY_MINOR = 10_000_000_000;
const Price = z.number().int().nonnegative().max(MAX_PRICE_E4);
const Monthly = z.number().int().nonnegative().max(MAX_MONTHLY_MINOR);
/** A real calendar day written YYYY-MM-DD: 2026-02-31 is refused, not rolled over into March. */
const Day = z.string().superRefine((s, ctx) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const real = m !== null && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) === s;
  if (!real)
    ctx.addIssue({
      code: 'custom',
      message: m
        ? 'that is not a day of the calendar (month 01-12, day within that month); write YYYY-MM-DD'
        : 'expected a date written YYYY-MM-DD, e.g. 2026-04-01',
    });
});
const Minute = z.number().int().min(0).max(1440);

const Flat = z.object({ kind: z.literal('flat'), priceE4: Price });

/** Blocks reset every local calendar month; upToKWh is the block's upper bound of month-to-date energy. */
const Block = z
  .object({
    kind: z.literal('block'),
    blocks: z.array(z.object({ upToKWh: z.number().positive().nullable(), priceE4: Price })).min(1),
  })
  .refine(
    (b) =>
      b.blocks.every((x, i) =>
        i === b.blocks.length - 1 ? x.upToKWh === null : x.upToKWh !== null && (i === 0 || x.upToKWh > (b.blocks[i - 1]?.upToKWh ?? 0)),
      ),
    {
      error: 'block upper bounds must rise, and only the last block is open (upToKWh: null)',
    },
  );

/**
 * Time of use: the first period that contains an interval's local start time (and weekday, 0 = Sunday,
 * when given) prices it; fromMinute > toMinute wraps midnight. Anything else gets otherwisePriceE4.
 */
const Tou = z.object({
  kind: z.literal('tou'),
  periods: z.array(
    z.object({ name: z.string().min(1), fromMinute: Minute, toMinute: Minute, weekdays: z.array(z.number().int().min(0).max(6)).optional(), priceE4: Price }),
  ),
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
export const FeeSchema = z.object({ name: z.string().min(1), amountMinor: Monthly });

export const TariffVersionSchema = z.object({
  version: z.number().int().positive(),
  effectiveFrom: Day,
  energy: z.discriminatedUnion('kind', [Flat, Block, Tou]),
  /** Per local calendar month, in minor units; prorated by days (rating.ts). */
  fixedMonthlyMinor: Monthly.default(0),
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
  .refine(
    (t) => t.versions.every((v, i) => i === 0 || (v.effectiveFrom > (t.versions[i - 1]?.effectiveFrom ?? '') && v.version > (t.versions[i - 1]?.version ?? 0))),
    {
      error: 'versions must be in order of rising version number and effectiveFrom',
    },
  );

export type Tariff = z.infer<typeof TariffSchema>;
export type TariffVersion = z.infer<typeof TariffVersionSchema>;
export type Tax = z.infer<typeof TaxSchema>;
export type Fee = z.infer<typeof FeeSchema>;

/** Parses a tariff; a refusal is one sentence per problem naming the field, what was found and what is allowed. */
export function parseTariff(input: unknown): Tariff {
  const r = TariffSchema.safeParse(input);
  if (r.success) return r.data;
  throw new TariffInvalid(r.error.issues.map((i) => `${i.path.join('.') || 'tariff'}: found ${found(input, i.path)}; ${i.message}`).join('. '));
}

export class TariffInvalid extends Error {
  override readonly name = 'TariffInvalid';
}

function found(input: unknown, path: readonly PropertyKey[]): string {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
