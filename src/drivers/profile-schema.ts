import { z } from '#zod';
import { CHANNEL_NAMES, channelDef, COMPONENT_KINDS, componentChannelDef, type ComponentKind } from '../channels/catalogue.js';
import { REGISTER_TYPES, WORD_ORDERS } from './register-types.js';

export { REGISTER_TYPES, WORD_ORDERS, registerWidth, type RegisterType, type WordOrder } from './register-types.js';

const register = z.number().int().min(0).max(0xffff);

const COMPONENT_KIND_NAMES = Object.keys(COMPONENT_KINDS) as [ComponentKind, ...ComponentKind[]];

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
    onInvert: z.union([z.literal('negate'), z.object({ swapWith: z.enum(CHANNEL_NAMES as [string, ...string[]]) })]).optional(),
    /**
     * The point belongs to another component of the same device (a hybrid inverter also reports its PV
     * and its load): the site maps each kind to a component name (e.g. pv -> pv0). Default: the profile's.
     */
    component: z.enum(COMPONENT_KIND_NAMES).optional(),
    /** Codes -> text: the name of an entry in the profile's `enums`, or a slot a `variant` fills. */
    enum: z.string().min(1).optional(),
    /** A setting or command the device accepts (FC06/FC16). Writes go through the setting writer. */
    writable: z
      .object({
        /** Engineering limits; a write outside them is refused before it reaches the bus. */
        min: z.number(),
        max: z.number(),
        /** Stored in EEPROM/flash: written only on change, within a daily write budget (docs/devices.md#write-wear). */
        eeprom: z.boolean(),
      })
      .strict()
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

/**
 * What a storage device lets a controller do (issue 10 item 3). A device with a power setpoint is
 * steered every cycle; one without (SRNE HF/ASF) only by modes and current caps, changed seldom.
 */
export const capabilitiesSchema = z
  .object({
    /** A real power setpoint (RAM register, fast); false when the device has none. */
    activePowerSetpoint: z.union([
      z.literal(false),
      z
        .object({
          channel: z.string(),
          /** Per-phase setpoints, when the device takes them (per-phase zero export). */
          perPhaseChannels: z.array(z.string()).default([]),
          /** How fast the device follows a new setpoint (first-order time constant), for planning. */
          responseMs: z.number().positive().optional(),
        })
        .strict(),
    ]),
    /** Mode settings (EEPROM): changed seldom, at most once per minModeDwellMs. */
    modes: z.array(z.string()).default([]),
    /** Current/power cap settings (EEPROM). */
    caps: z.array(z.string()).default([]),
    /** Shortest time between two changes of one mode (docs/devices.md#write-wear: we use >= 15 min). */
    minModeDwellMs: z.number().int().min(0).default(0),
    /** EEPROM writes allowed per device and day; past it the device is read-only until the next day. */
    dailyEepromWrites: z.number().int().min(0).default(20),
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
    /** The kind of component the device is (its channels follow that kind's sign convention). Default meter. */
    component: z.enum(COMPONENT_KIND_NAMES).default('meter'),
    /** Most registers one read may ask for: 125 by the Modbus spec, 32 on SRNE inverters (SRNE protocol V1.96). */
    maxReadRegisters: z.number().int().min(1).max(125).default(125),
    /** Function code for writing registers: 16 (FC10) by default, 6 for a device that only takes FC06. */
    writeFunctionCode: z.union([z.literal(6), z.literal(16)]).default(16),
    /** Code tables (state, fault, mode values): name -> code -> text. */
    enums: z.record(z.string(), z.record(z.string().regex(/^\d+$/), z.string())).default({}),
    /**
     * Model families that share the register map but not its code tables (SRNE HF/ASF: 11 machine states,
     * split-phase and EU units: 4). The device's configuration names one; default: the first listed.
     */
    variants: z.record(z.string(), z.object({ description: z.string().default(''), enums: z.record(z.string(), z.string()).default({}) }).strict()).optional(),
    /** Channels computed from others read in the same block, e.g. battery power = voltage x current. */
    derived: z
      .array(
        z
          .object({
            channel: z.enum(CHANNEL_NAMES as [string, ...string[]]),
            product: z.tuple([z.string(), z.string()]),
            component: z.enum(COMPONENT_KIND_NAMES).optional(),
          })
          .strict(),
      )
      .default([]),
    /** What a controller can ask of the device (storage): a power setpoint, or only modes and caps. */
    capabilities: capabilitiesSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const points = p.groups.flatMap((g) => g.points);
    const enumNames = new Set([...Object.keys(p.enums), ...Object.values(p.variants ?? {}).flatMap((v) => Object.keys(v.enums))]);
    points.forEach((pt) => {
      const kind = pt.component ?? p.component;
      if (kind !== 'meter' && !componentChannelDef(kind, pt.channel)) {
        ctx.addIssue({
          code: 'custom',
          path: ['groups'],
          message: `channel ${pt.channel} is not a ${kind} channel; allowed: ${COMPONENT_KINDS[kind].channels.map((c) => c.name).join(', ')}`,
        });
      }
      if (pt.enum !== undefined && !enumNames.has(pt.enum)) {
        ctx.addIssue({ code: 'custom', path: ['groups'], message: `point ${pt.channel} names enum "${pt.enum}", which neither enums nor a variant defines` });
      }
    });
    for (const [name, v] of Object.entries(p.variants ?? {})) {
      for (const [slot, table] of Object.entries(v.enums)) {
        if (!(table in p.enums))
          ctx.addIssue({
            code: 'custom',
            path: ['variants', name, 'enums', slot],
            message: `no enum "${table}"; defined: ${Object.keys(p.enums).join(', ') || 'none'}`,
          });
      }
    }
    const writable = new Set(points.filter((pt) => pt.writable).map((pt) => pt.channel));
    const c = p.capabilities;
    if (c) {
      const named = [...(c.activePowerSetpoint ? [c.activePowerSetpoint.channel, ...c.activePowerSetpoint.perPhaseChannels] : []), ...c.modes, ...c.caps];
      for (const ch of named)
        if (!writable.has(ch))
          ctx.addIssue({ code: 'custom', path: ['capabilities'], message: `capabilities name ${ch}, which is not a writable point of this profile` });
    }
    for (const d of p.derived) {
      for (const input of d.product)
        if (!points.some((pt) => pt.channel === input))
          ctx.addIssue({ code: 'custom', path: ['derived'], message: `derived ${d.channel} needs ${input}, which no point reads` });
    }
  });

export type PointSpec = z.infer<typeof pointSchema>;
export type GroupSpec = z.infer<typeof groupSchema>;
export type DeviceProfile = z.infer<typeof profileSchema>;
export type DeviceCapabilities = z.infer<typeof capabilitiesSchema>;

/** The code table a point uses for a model family (variant), or undefined. */
export function enumFor(profile: DeviceProfile, point: Pick<PointSpec, 'enum'>, variant?: string): Readonly<Record<string, string>> | undefined {
  if (point.enum === undefined) return undefined;
  const variants = profile.variants ?? {};
  const chosen = variant ?? Object.keys(variants)[0];
  const table = (chosen !== undefined ? variants[chosen]?.enums[point.enum] : undefined) ?? point.enum;
  return profile.enums[table];
}
