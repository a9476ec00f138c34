import { z } from '#zod';

/** The site file's `uplink:` section: MQTT v5 telemetry as SenML with a durable queue (docs/uplink.md). */
export const uplinkConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Broker URL: mqtt://host:1883 or mqtts://host:8883 (TLS). */
    url: z.string().regex(/^mqtts?:\/\/[^/\s]+$/, 'mqtt://host:port or mqtts://host:port'),
    /** MQTT client id; default mgos-<site id>. */
    clientId: z.string().min(1).max(64).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** TLS files (PEM paths): a private CA, and a client certificate and key for certificate login. */
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        /** Check the broker's certificate (default true; false only for a test broker). */
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .refine((t) => (t.cert === undefined) === (t.key === undefined), { error: 'a client certificate needs both cert and key' })
      .optional(),
    /** Topics are <topicPrefix>/<site>/<component> (docs/uplink.md). */
    topicPrefix: z
      .string()
      .regex(/^[^#+\s]+$/, 'no MQTT wildcards or spaces')
      .default('mgos'),
    format: z.enum(['json', 'cbor']).default('json'),
    /** Meter values named by OBIS code where one exists (otherwise the channel name), or always by channel name. */
    names: z.enum(['obis', 'channel']).default('obis'),
    /** Energy counters in kWh (RFC 8798 secondary unit, the meter's own resolution), Wh, or J (RFC 8428 primary). */
    energyUnit: z.enum(['kWh', 'Wh', 'J']).default('kWh'),
    telemetry: z
      .object({
        /** Every component's full set of channels, aligned to the clock. */
        periodMs: z.number().int().min(1000).max(3_600_000).default(10_000),
        /** Between periods, publish the channels that changed beyond their deadband. */
        changes: z.boolean().default(true),
        /** Deadbands by SenML unit for change-based publishing (others: any change). */
        deadbands: z.record(z.string(), z.number().min(0)).default({ W: 50, var: 50, VA: 50, V: 2, A: 0.5, Hz: 0.05 }),
      })
      .strict()
      .default({ periodMs: 10_000, changes: true, deadbands: { W: 50, var: 50, VA: 50, V: 2, A: 0.5, Hz: 0.05 } }),
    queue: z
      .object({
        /** SQLite file of the queue; default uplink-queue.db beside the store. */
        path: z.string().min(1).optional(),
        /** The most messages kept; the oldest are dropped (counted, alarmed) beyond it. Default: a week of 10 s telemetry for 110 components. */
        maxMessages: z.number().int().min(100).default(6_700_000),
        /** New messages are written in one transaction at most this long after the first of a batch. */
        flushDelayMs: z.number().int().min(0).max(60_000).default(1000),
      })
      .strict()
      .default({ maxMessages: 6_700_000, flushDelayMs: 1000 }),
    replay: z
      .object({
        /** Backlog messages sent per second at most, in the gaps of live data. */
        maxPerSecond: z.number().min(1).default(200),
        /** Messages awaiting PUBACK at once. */
        inflight: z.number().int().min(1).max(1000).default(32),
      })
      .strict()
      .default({ maxPerSecond: 200, inflight: 32 }),
    /** The site's own health on <prefix>/<site>/health, retained (docs/uplink.md). */
    health: z
      .object({ enabled: z.boolean().default(true), periodMs: z.number().int().min(1000).max(3_600_000).default(60_000) })
      .strict()
      .default({ enabled: true, periodMs: 60_000 }),
    /** Home Assistant MQTT discovery: retained sensor configs for every component's channels (docs/uplink.md). */
    homeAssistant: z
      .object({
        enabled: z.boolean().default(false),
        discoveryPrefix: z
          .string()
          .regex(/^[^#+\s]+$/, 'no MQTT wildcards or spaces')
          .default('homeassistant'),
      })
      .strict()
      .default({ enabled: false, discoveryPrefix: 'homeassistant' }),
    /** Remote commands and the device twin over MQTT (docs/uplink.md, "Commands"); off unless enabled. */
    commands: z
      .object({
        enabled: z.boolean().default(false),
        /** A command's issuedAt may differ from the site's clock by at most this much (replays of old commands are refused). */
        maxSkewMs: z.number().int().min(10_000).max(3_600_000).default(300_000),
        /** Request ids remembered (in SQLite, across restarts) at most; within the skew window none is forgotten. */
        rememberIds: z.number().int().min(100).max(1_000_000).default(10_000),
        /** Commands larger than this are refused before parsing. */
        maxBytes: z.number().int().min(1024).max(262_144).default(16_384),
      })
      .strict()
      .default({ enabled: false, maxSkewMs: 300_000, rememberIds: 10_000, maxBytes: 16_384 }),
    keepaliveS: z.number().int().min(5).max(3600).default(60),
    /** Reconnect back-off, doubling from min to max. */
    reconnectMinMs: z.number().int().min(100).default(1000),
    reconnectMaxMs: z.number().int().min(100).default(60_000),
  })
  .strict()
  // Home Assistant's templates read JSON only.
  .refine((c) => !c.homeAssistant.enabled || c.format === 'json', { error: 'homeAssistant needs format: json', path: ['homeAssistant'] });

export type UplinkConfig = z.output<typeof uplinkConfigSchema>;
