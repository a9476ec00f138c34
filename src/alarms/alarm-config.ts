import { z } from '#zod';

/** Thresholds of the built-in alarm rules (site file `alarms:` section). */
export const alarmConfigSchema = z
  .object({
    /** A meter with no valid reading for this many poll cycles is offline. */
    offlineCycles: z.number().int().min(1).max(100).default(3),
    /** A commissioned meter whose last stored reading is older than this has stopped logging. */
    notLoggingMinutes: z.number().min(1).default(15),
    voltage: z
      .object({ nominalV: z.number().positive().default(230), tolerance: z.number().min(0).max(0.5).default(0.1) })
      .strict()
      .default({ nominalV: 230, tolerance: 0.1 }),
    frequency: z
      .object({ minHz: z.number().default(49.5), maxHz: z.number().default(50.5) })
      .strict()
      .default({ minHz: 49.5, maxHz: 50.5 }),
    /** Exported energy a consumption meter may count before it is suspected of reverse wiring or tamper. */
    reverseEnergyKWh: z.number().min(0).default(0.1),
    /** Ids of customer meters that may export (a customer with PV): the reverse-energy rule skips them. */
    exportingMeters: z.array(z.number().int().min(1).max(247)).default([]),
    /** Main meter energy over a day may exceed the sum of its customer meters by at most this share. */
    energyBalanceMaxShare: z.number().min(0).max(1).default(0.1),
    /** Alarm when the data disk has less free space than this share. */
    diskFreeMinShare: z.number().min(0).max(1).default(0.15),
    webhook: z
      .object({ url: z.url(), secret: z.string().min(16).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type AlarmConfig = z.output<typeof alarmConfigSchema>;
