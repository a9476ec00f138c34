import { z } from '#zod';

/**
 * The Modbus TCP server for SCADA (site file `scada:` section, docs/scada-modbus.md). Off by default.
 * `allow` lists the client addresses that may read and write; `readOnly` those that may only read;
 * a connection from any other address is closed at once.
 */
const ip = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/, 'an IPv4 or IPv6 address such as 10.0.0.5');

export const scadaConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    host: z.string().min(1).default('0.0.0.0'),
    /** 502 is the Modbus port; below 1024 the process needs CAP_NET_BIND_SERVICE. */
    port: z.number().int().min(0).max(65535).default(502),
    unitId: z.number().int().min(1).max(247).default(1),
    allow: z.array(ip).default([]),
    readOnly: z.array(ip).default([]),
    /** How long an override written by SCADA lasts unless the client writes register 105 first. */
    overrideMinutes: z.number().int().min(1).max(1440).default(15),
    /** Control modes SCADA may select by number (register 106): 1 = the first entry; 0 = the site file's controllers. */
    modes: z
      .array(z.object({ name: z.string().min(1), controllers: z.array(z.record(z.string(), z.unknown())).max(20) }).strict())
      .max(100)
      .default([]),
  })
  .strict();

export type ScadaConfig = z.output<typeof scadaConfigSchema>;
