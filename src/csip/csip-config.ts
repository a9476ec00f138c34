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
     * The utility's ramp (ramp.ts, docs/csip.md "Ramp"): looser limits rise at the event's rampTms or the
     * DefaultDERControl's setGradW; tighter ones apply at once.
     */
    ramp: z
      .object({
        enabled: z.boolean().default(true),
        /** The rated power setGradW is a share of (W); unset: the PV assets' ratings (SunSpec WMax when scanned). */
        ratedW: z.number().positive().optional(),
        /** Back to the level before a gap between two events this short is not ramped (s). */
        bridgeGapS: z.number().int().min(0).max(3600).default(30),
        /** A tighter limit starting within this many seconds applies now, so the site is within it at its start (s); 0: at the start. */
        anticipateS: z.number().min(0).max(60).default(2),
      })
      .strict()
      .default({ enabled: true, bridgeGapS: 30, anticipateS: 2 }),
    /**
     * In-band registration: when the server lists no EndDevice of this certificate, POST one with this
     * DeviceCategoryType bit field (default bit 18, virtual or mixed DER: a site controller). Unset: the
     * utility registers the site out of band.
     */
    register: z
      .object({
        deviceCategory: z
          .number()
          .int()
          .min(0)
          .max(0xffffffff)
          .default(1 << 18),
      })
      .strict()
      .optional(),
    /** The site's connection point identifier (the NMI in Australia), PUT to the EndDevice's ConnectionPoint. */
    connectionPointId: z
      .string()
      .regex(/^[0-9A-Za-z]{1,32}$/, 'letters and digits only, at most 32 (an NMI such as 4102000001)')
      .optional(),
    /** What the site reports (docs/csip.md "Reporting", "Telemetry"): on by default. */
    reporting: z
      .object({
        /** DERCapability, DERSettings and DERStatus of each PV and battery asset and SunSpec device. */
        ders: z.boolean().default(true),
        /** MirrorUsagePoint readings for the grid meter and each DER at the server's postRate. */
        telemetry: z.boolean().default(true),
        /** A measurement older than this (ms), or not GOOD, is not reported. */
        maxAgeMs: z.number().int().min(1000).max(3_600_000).default(30_000),
        /** Readings waiting for the server: at most `maxSamples` (the oldest dropped and counted). */
        queue: z
          .object({
            /** Kept in SQLite (next to the store unless `path` is set) so a power cut loses none; false: in memory. */
            durable: z.boolean().default(true),
            path: z.string().min(1).optional(),
            /** One sample is one mirror's readings at one postRate: 10,000 is 41 h of 4 mirrors at 60 s. */
            maxSamples: z.number().int().min(10).max(1_000_000).default(10_000),
          })
          .strict()
          .default({ durable: true, maxSamples: 10_000 }),
      })
      .strict()
      .default({ ders: true, telemetry: true, maxAgeMs: 30_000, queue: { durable: true, maxSamples: 10_000 } }),
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
