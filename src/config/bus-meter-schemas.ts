import { z } from '#zod';
import { WORD_ORDERS } from '../drivers/register-types.js';

/**
 * The site file's bus and meter entries, apart from the rest of the site schema so that `mgos read`
 * checks its options with them without building the schema of every section (alarms, billing, control...).
 */

/** An id in the site file: a bus, a meter's name, the site. */
export const name = z.string().regex(/^[a-z0-9][a-z0-9_]*$/, 'use lowercase letters, digits and underscores, e.g. floor1_reception');

const BAUD_RATES: readonly number[] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

const serialBus = z
  .object({
    id: name,
    transport: z.literal('rtu'),
    /** Serial device, e.g. /dev/ttyUSB0 */
    path: z.string().min(1),
    baudRate: z
      .number()
      .refine((b) => BAUD_RATES.includes(b), { error: `not a standard baud rate; allowed: ${BAUD_RATES.join(', ')}` })
      .default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(2),
    dataBits: z.literal(8).default(8),
    timeoutMs: z.number().int().min(50).max(10000).default(1000),
    retries: z.number().int().min(0).max(5).default(1),
  })
  .strict();

const networkBus = z
  .object({
    id: name,
    /** rtu-over-tcp: an RS-485-to-Ethernet gateway in transparent mode; tcp: Modbus TCP (MBAP). */
    transport: z.enum(['rtu-over-tcp', 'tcp']),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    /** Used to estimate wire time and utilisation for an RS-485 line behind a gateway. */
    baudRate: z.number().int().positive().default(9600),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(2),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    timeoutMs: z.number().int().min(50).max(10000).default(1000),
    retries: z.number().int().min(0).max(5).default(1),
  })
  .strict();

export const busSchema = z.discriminatedUnion('transport', [serialBus, networkBus]);

/** The seed's meter types; `1phase`/`3phase` name the CHINT models the field teams use. */
export const METER_TYPE_ALIASES: Record<string, string> = { '1phase': 'DDSU666', '3phase': 'DTSU666' };

const meterFields = {
  /** The meter's id in the site, and its Modbus address unless `address` says otherwise. */
  id: z.number().int().min(1).max(247),
  /** Modbus address on its bus, when it differs from the id (sites with several buses). */
  address: z.number().int().min(1).max(247).optional(),
  name,
  /** 1phase, 3phase or a profile model name (DDSU666, DTSU666, ...). */
  type: z.string().min(1) as z.ZodType<string>,
  enabled: z.boolean().default(true),
  bus: name.optional(),
  /** main = the meter at the grid connection point; customer = a sub-meter. */
  role: z.enum(['main', 'customer']).default('customer'),
  ctRatio: z.number().positive().default(1),
  ptRatio: z.number().positive().default(1),
  /** The most power this meter can measure (W), overriding its profile's rating (e.g. a PT-connected meter). */
  maxPowerW: z.number().positive().optional(),
  invert: z.boolean().default(false),
  functionCode: z.union([z.literal(3), z.literal(4)]).optional(),
  wordOrder: z.enum(WORD_ORDERS).optional(),
};

/** A meter entry; `knownTypes` (profile models and aliases) makes an unknown type a config error. */
export const meterSchemaFor = (knownTypes?: readonly string[]) =>
  z
    .object({
      ...meterFields,
      type: knownTypes
        ? z.string().refine((t) => knownTypes.includes(METER_TYPE_ALIASES[t] ?? t.toUpperCase()) || knownTypes.includes(t), {
            error: `unknown meter type; allowed: ${[...Object.keys(METER_TYPE_ALIASES), ...knownTypes].join(', ')}`,
          })
        : meterFields.type,
    })
    .strict();

export const meterSchema = meterSchemaFor();

export type BusConfig = z.output<typeof busSchema>;
