import { z } from '#zod';

/**
 * A SunSpec device in the site file's `control.devices` (docs/sunspec.md "In the site"): scanned at
 * start, its inverter models read each control period into `<component>/…`, its meter model (20x)
 * into `<meter>/…`; PV limits written through 123 or 704 with a revert time of `revertPeriods`
 * control periods, so a stopped controller falls back to the device's own revert.
 */
const component = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a component name such as pv0');

export const sunspecDeviceSchema = z
  .object({
    type: z.literal('sunspec'),
    /** Where the inverter's channels go (e.g. pv0). */
    component,
    bus: z.string().min(1),
    /** Modbus unit id. */
    address: z.number().int().min(1).max(247),
    /** Where a meter model's channels go (e.g. grid); without it a meter model goes to `component`. */
    meter: component.optional(),
    /** The meter reads export as positive: turn it around (our convention is import positive). */
    invertMeter: z.boolean().default(false),
    /** Revert time of a written limit, in control periods. */
    revertPeriods: z.number().int().min(2).max(600).default(5),
  })
  .strict();

export type SunSpecDeviceConfig = z.output<typeof sunspecDeviceSchema>;
