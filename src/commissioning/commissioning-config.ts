import { z } from 'zod';

const range = z
  .object({ min: z.number().int().min(2).max(247), max: z.number().int().min(2).max(247) })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not be above max' });

/**
 * Address plan and inventory deadlines (site file `commissioning:` section). Defaults follow the
 * pre-commissioning guide: single-phase 2-99, three-phase 100-247; address 1 is the factory default
 * and is never assigned.
 */
export const commissioningConfigSchema = z
  .object({
    addressPlan: z
      .object({ singlePhase: range.default({ min: 2, max: 99 }), threePhase: range.default({ min: 100, max: 247 }) })
      .strict()
      .default({ singlePhase: { min: 2, max: 99 }, threePhase: { min: 100, max: 247 } }),
    /** Days after which an Assigned meter is overdue for conversion. */
    assignedOverdueDays: z.number().min(0).default(7),
    /** Days after which an Installed meter is overdue for commissioning. */
    installedOverdueDays: z.number().min(0).default(2),
  })
  .strict();

export type CommissioningConfig = z.output<typeof commissioningConfigSchema>;
