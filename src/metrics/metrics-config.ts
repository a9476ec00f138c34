import { z } from '#zod';

/**
 * The site file's `metrics:` section (docs/metrics.md): the Prometheus endpoint `GET /metrics`. Without
 * this section the endpoint answers 404; with it, only a scraper that sends the token as a bearer token.
 */
export const metricsConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The scraper's bearer token: 32 to 256 printable characters (e.g. `openssl rand -hex 32`). */
    token: z
      .string()
      .min(32, 'at least 32 characters (e.g. openssl rand -hex 32)')
      .max(256)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  })
  .strict();

export type MetricsConfig = z.output<typeof metricsConfigSchema>;
