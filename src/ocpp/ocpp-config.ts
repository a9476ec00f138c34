import { z } from '#zod';

/**
 * The OCPP 1.6J central system (site file `ocpp:` section, docs/ocpp.md). Off by default. Each charger
 * connects to ws://host:port/<chargerId> with HTTP basic auth (username = charger id); its password is
 * stored only as a scrypt hash (`passwordHash`, as `mgos` hashes user passwords, or set at run time
 * through CentralSystem.setChargerPassword). `idTags` map RFID cards / app tokens to billing customers.
 */
export const ocppConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(9220),
    /** Heartbeat interval sent in the BootNotification answer (s). */
    heartbeatS: z.number().int().min(10).max(86_400).default(300),
    chargers: z
      .array(
        z
          .object({
            id: z.string().regex(/^[A-Za-z0-9_.-]{1,48}$/),
            passwordHash: z.string().min(1).optional(),
            maxPowerW: z.number().positive().default(11_000),
          })
          .strict(),
      )
      .default([]),
    idTags: z.array(z.object({ idTag: z.string().min(1).max(20), customerId: z.string().min(1) }).strict()).default([]),
  })
  .strict();

export type OcppConfig = z.output<typeof ocppConfigSchema>;
