import { z } from '#zod';
import type { RouteRegistry } from '../api/route.js';
import { QUANTITIES } from './schedule.js';
import type { UtilityRuntime } from './utility-runtime.js';

/**
 * GET /api/utility: the limits in force per quantity with where each came from, the active and
 * upcoming events, the device's identity and certificate, and the client's link to the server. The
 * answer is checked against its schema before it leaves, so the UI can rely on its shape.
 */
const source = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), eventMRID: z.string(), programMRID: z.string(), primacy: z.number() }),
  z.object({ kind: z.literal('default'), defaultMRID: z.string(), programMRID: z.string(), primacy: z.number() }),
  z.object({ kind: z.literal('fallback') }),
]);
const limitValues = z
  .object({
    opModExpLimW: z.number(),
    opModGenLimW: z.number(),
    opModImpLimW: z.number(),
    opModLoadLimW: z.number(),
    opModMaxLimW: z.number(),
    opModConnect: z.boolean(),
    opModEnergize: z.boolean(),
  })
  .partial();

export const utilityStatusSchema = z.object({
  now: z.number(),
  evaluatedAt: z.number().nullable(),
  limits: z.array(z.object({ quantity: z.enum(QUANTITIES), value: z.union([z.number(), z.boolean()]), source })),
  events: z.array(
    z.object({
      mRID: z.string(),
      programMRID: z.string(),
      primacy: z.number(),
      state: z.enum(['scheduled', 'active']),
      startMs: z.number(),
      endMs: z.number(),
      values: limitValues,
    }),
  ),
  device: z.object({ lfdi: z.string().regex(/^[0-9A-F]{40}$/), sfdi: z.string().regex(/^\d+$/), certExpiresAt: z.number() }),
  server: z.object({ url: z.string(), reachable: z.boolean(), lastError: z.string().nullable(), timeOffsetMs: z.number(), resources: z.number().int() }),
});
export type UtilityStatus = z.output<typeof utilityStatusSchema>;

export function utilityStatus(u: UtilityRuntime, now: number): UtilityStatus {
  const last = u.lastEvaluation();
  const result = last?.result ?? u.client.limits();
  return utilityStatusSchema.parse({
    now,
    evaluatedAt: last?.at ?? null,
    limits: QUANTITIES.flatMap((q) => {
      const l = result.limits[q];
      return l ? [{ quantity: q, value: l.value, source: l.source }] : [];
    }),
    events: result.events
      .filter((e) => e.state === 'active' || e.state === 'scheduled')
      .map((e) => ({
        mRID: e.mRID,
        programMRID: e.programMRID,
        primacy: e.primacy,
        state: e.state,
        startMs: e.start * 1000,
        endMs: e.end * 1000,
        values: e.values,
      })),
    device: { lfdi: u.client.identity.lfdi, sfdi: String(u.client.identity.sfdi), certExpiresAt: u.certExpiresAt },
    server: {
      url: u.config.server,
      reachable: u.client.reachable,
      lastError: u.client.lastError,
      timeOffsetMs: u.client.timeOffsetMs,
      resources: u.client.polled().length,
    },
  });
}

export function registerUtilityRoutes(routes: RouteRegistry, u: UtilityRuntime, now: () => number): void {
  routes.add({
    method: 'GET',
    url: '/api/utility',
    summary:
      "The utility's limits in force per quantity (W; opModMaxLimW in %) with their source (event mRID, DefaultDERControl or the site's fallback), active and upcoming events, the device's LFDI, SFDI and certificate expiry, and the link to the 2030.5 server",
    role: 'viewer',
    handler: () => utilityStatus(u, now()),
  });
}
