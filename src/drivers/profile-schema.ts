import { z } from 'zod';
import { CHANNEL_NAMES, channelDef } from '../channels/catalogue.js';

/** Register value types a profile may use; float32 etc. occupy two registers. */
export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** Word order of 32-bit values: ABCD = big-endian words (CHINT), CDAB = low word first. */
export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export const registerWidth = (t: RegisterType): number => (t === 'int16' || t === 'uint16' ? 1 : 2);

const register = z.number().int().min(0).max(0xffff);

export const pointSchema = z
  .object({
    register,
    type: z.enum(REGISTER_TYPES),
    channel: z.enum(CHANNEL_NAMES as [string, ...string[]]),
    /** engineering value = raw * scale * sign (* configured CT/PT ratios, see `ratio`) */
    scale: z.number().positive().default(1),
    sign: z.union([z.literal(1), z.literal(-1)]).default(1),
    /** The engineering unit after scaling; must equal the catalogue unit of `channel`. */
    unit: z.string(),
    wordOrder: z.enum(WORD_ORDERS).optional(),
    /** Which configured transformer ratios multiply this value (secondary-side meters). */
    ratio: z.enum(['none', 'ct', 'pt', 'ctpt']).default('none'),
    /** What the device's `invert` option does to this point: negate it, or move it to another channel. */
    onInvert: z
      .union([z.literal('negate'), z.object({ swapWith: z.enum(CHANNEL_NAMES as [string, ...string[]]) })])
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const def = channelDef(p.channel);
    if (def && def.unit !== p.unit) {
      ctx.addIssue({
        code: 'custom',
        path: ['unit'],
        message: `channel ${p.channel} is in "${def.unit}" but the point says "${p.unit}": set scale so the value is in ${def.unit || 'no unit'} and write unit: "${def.unit}"`,
      });
    }
  });

export const groupSchema = z
  .object({
    name: z.string().min(1),
    /** Poll this group every N cycles (1 = every cycle). Energy counters change slowly. */
    every: z.number().int().min(1).default(1),
    points: z.array(pointSchema).min(1),
  })
  .strict();

export const profileSchema = z
  .object({
    model: z.string().min(1),
    manufacturer: z.string().default(''),
    description: z.string().default(''),
    phases: z.union([z.literal(1), z.literal(3)]),
    functionCode: z.union([z.literal(3), z.literal(4)]).default(3),
    wordOrder: z.enum(WORD_ORDERS).default('ABCD'),
    /** Largest run of unused registers worth reading to save a request (see block-plan.ts). */
    maxGap: z.number().int().min(0).max(120).default(16),
    /** Register holding the Modbus address (commissioning); 0x0006 on DDSU666, 0x002E on DTSU666. */
    addressRegister: register.optional(),
    /** What the meter can physically measure: an interval holding more energy is quarantined, never billed. */
    rating: z
      .object({
        nominalVoltageV: z.number().positive(),
        /** Imax of the direct-connected variant (A), per phase. */
        maxCurrentA: z.number().positive(),
        /** Imax of the CT-connected variant's input (A): with ctRatio above 1 the limit is this times ctRatio. */
        ctMaxCurrentA: z.number().positive().optional(),
        /** The highest operating voltage as a multiple of nominal: the meter still counts up there. */
        maxVoltageFactor: z.number().min(1).max(2).default(1),
      })
      .strict()
      .optional(),
    groups: z.array(groupSchema).min(1),
  })
  .strict();

export type PointSpec = z.infer<typeof pointSchema>;
export type GroupSpec = z.infer<typeof groupSchema>;
export type DeviceProfile = z.infer<typeof profileSchema>;
