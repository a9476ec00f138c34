import { z } from '#zod';

const range = z
  .object({ min: z.number().int().min(2).max(247), max: z.number().int().min(2).max(247) })
  .strict()
  .refine((r) => r.min <= r.max, { error: 'min must not be above max' });

/**
 * Serial adapters a bench converter may open by default: USB-RS485 (ttyUSB, ttyACM) and on-board
 * UARTs (ttyS, ttyAMA). Not /dev/tty or the virtual consoles, and never a path outside /dev.
 */
export const BENCH_SERIAL_PREFIXES = ['/dev/ttyUSB', '/dev/ttyACM', '/dev/ttyS', '/dev/ttyAMA'] as const;

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
    /** What the bench converter may open; see BENCH_SERIAL_PREFIXES. */
    bench: z
      .object({
        /** Serial devices (after resolving links) must start with one of these; tests add /dev/pts/ for a socat pty. */
        serialPrefixes: z
          .array(z.string().regex(/^\/dev\/[\w/-]+$/, 'a device path prefix under /dev/, e.g. /dev/ttyUSB'))
          .min(1)
          .default([...BENCH_SERIAL_PREFIXES]),
        /** RS-485-to-Ethernet gateways (HOST:PORT) for the bench, besides the rtu-over-tcp buses. */
        gateways: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'HOST:PORT, e.g. 192.168.1.50:4196')).default([]),
      })
      .strict()
      .default({ serialPrefixes: [...BENCH_SERIAL_PREFIXES], gateways: [] }),
  })
  .strict();

export type CommissioningConfig = z.output<typeof commissioningConfigSchema>;
