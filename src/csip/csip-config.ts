import { z } from '#zod';

/**
 * The site file's `csip:` section: the IEEE 2030.5 / CSIP-AUS client that brings the utility's limits
 * (docs/csip.md). Paths are PEM files read once at start. Server verification has no off switch.
 */
const watts = z.number().min(0);

export const csipConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The server's origin, https only; its certificate must name this host. */
    server: z.string().regex(/^https:\/\/[^/\s]+$/, 'https://host:port (no path)'),
    dcapPath: z.string().startsWith('/').default('/dcap'),
    /** Device certificate, its key, and the CA that signs the server's certificate (PEM paths). */
    cert: z.string().min(1),
    key: z.string().min(1),
    ca: z.string().min(1),
    /** The registration PIN the utility gave; checked when set. */
    pin: z.number().int().min(0).optional(),
    /** The site's own limits when neither an event nor a DefaultDERControl sets a quantity. */
    fallback: z
      .object({
        exportLimitW: watts.optional(),
        generationLimitW: watts.optional(),
        importLimitW: watts.optional(),
        loadLimitW: watts.optional(),
        connect: z.boolean().optional(),
        energize: z.boolean().optional(),
      })
      .strict()
      .default({}),
    poll: z
      .object({
        /** How often the client looks for resources whose pollRate has elapsed (ms). */
        tickMs: z.number().int().min(100).max(60_000).default(1000),
        /** A failed read is tried again after this long, or its pollRate if shorter (ms). */
        retryMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** Items asked per page of a list. */
        pageSize: z.number().int().min(1).max(255).default(10),
        /** Overrides every resource's pollRate (s), e.g. for a test server; unset: the server's. */
        rateS: z.number().int().min(1).max(86_400).optional(),
      })
      .strict()
      .default({ tickMs: 1000, retryMs: 30_000, pageSize: 10 }),
    /**
     * Subscriptions and notifications (IEEE 2030.5 Pub-Sub): the HTTPS endpoint the utility POSTs
     * notifications to (mTLS with the device certificate; the utility's certificate must be signed by
     * `ca`) and the public URI it is told. Absent: no subscriptions, polling only.
     */
    notifications: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.number().int().min(1).max(65535),
        /** The notificationURI as the utility's server reaches this endpoint (https, with the path). */
        publicUri: z.string().regex(/^https:\/\/[^/\s]+\/\S*$/, 'an https URI with a path, e.g. https://site.example:8443/notify'),
        /** Largest notification body accepted (bytes). */
        maxBodyBytes: z.number().int().min(1024).max(16_777_216).default(262_144),
        /** Items of a list the server may put in one notification (Subscription.limit). */
        limit: z.number().int().min(1).max(255).default(100),
      })
      .strict()
      .optional(),
    /** How often the schedule is evaluated into the `utility/*` channels (ms). */
    evaluateEveryMs: z.number().int().min(100).max(60_000).default(1000),
  })
  .strict();

export type CsipConfig = z.output<typeof csipConfigSchema>;
