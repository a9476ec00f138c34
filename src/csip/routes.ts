import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { z } from '#zod';
import type { RouteRegistry } from '../api/route.js';
import { COMPLIANCE_QUANTITIES, LIMIT_OF } from './compliance.js';
import { MAX_PROBLEM_TEXT, MAX_PROBLEMS } from './problems.js';
import type { ComplianceRecorder } from './compliance-recorder.js';
import { RAMPED, type RampedQuantity } from './ramp.js';
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
    opModStorageTargetW: z.number(),
    opModConnect: z.boolean(),
    opModEnergize: z.boolean(),
  })
  .partial();

const dayFigures = z.object({
  withinS: z.number().min(0),
  aboveS: z.number().min(0),
  unmeasuredS: z.number().min(0),
  excessWh: z.number().min(0),
  maxExcessW: z.number().min(0),
  maxExcessAt: z.number().nullable(),
});
const complianceFigures = z.object({
  quantity: z.enum(COMPLIANCE_QUANTITIES),
  limit: z.enum([LIMIT_OF.export, LIMIT_OF.import, LIMIT_OF.generation, LIMIT_OF.load]),
  limitW: z.number().nullable(),
  toleranceW: z.number().nullable(),
  measuredW: z.number().nullable(),
  today: dayFigures,
  last7Days: dayFigures,
  lastEvent: z
    .object({
      eventMRID: z.string(),
      programMRID: z.string(),
      limitW: z.number(),
      startMs: z.number(),
      metAt: z.number().nullable(),
      tookMs: z.number().min(0).nullable(),
    })
    .nullable(),
});

export const utilityStatusSchema = z.object({
  configured: z.literal(true),
  now: z.number(),
  evaluatedAt: z.number().nullable(),
  /**
   * `value` is what the site applies now; `ramp`, while a looser limit still rises to the schedule's
   * (ramp.ts): its `target`, and the rate per second in W (% for opModMaxLimW) and in % of the rated
   * power the ramp uses (null without one).
   */
  limits: z.array(
    z.object({
      quantity: z.enum(QUANTITIES),
      value: z.union([z.number(), z.boolean()]),
      source,
      ramp: z.object({ target: z.number(), ratePerS: z.number().nullable(), pctPerS: z.number().nullable() }).optional(),
    }),
  ),
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
  device: z.object({
    lfdi: z.string().regex(/^[0-9A-F]{40}$/),
    sfdi: z.string().regex(/^\d+$/),
    certSubject: z.string(),
    certExpiresAt: z.number(),
    /** Whole days until the certificate expires (negative once expired). */
    certDaysLeft: z.number().int(),
  }),
  server: z.object({
    url: z.string(),
    reachable: z.boolean(),
    lastContactAt: z.number().nullable(),
    lastError: z.string().nullable(),
    timeOffsetMs: z.number(),
    resources: z.number().int(),
    /**
     * Per resource (href, or what failed), newest first: the latest failure and since when it fails;
     * an entry goes when the resource is next read or posted successfully (problems.ts).
     */
    problems: z
      .array(
        z.object({
          resource: z.string().max(MAX_PROBLEM_TEXT),
          message: z.string().max(MAX_PROBLEM_TEXT),
          firstSeenAt: z.number(),
          lastSeenAt: z.number(),
          count: z.number().int().min(1),
        }),
      )
      .max(MAX_PROBLEMS),
  }),
  /** Per quantity with a limit now or in the last 7 days; tolerance: the lower of 4 % or 100 W. */
  compliance: z.array(complianceFigures),
});
export type UtilityStatus = z.output<typeof utilityStatusSchema>;

/** What the route answers: the status, or that the site file has no `csip:` section. */
export const utilityAnswerSchema = z.discriminatedUnion('configured', [utilityStatusSchema, z.object({ configured: z.literal(false) })]);
export type UtilityAnswer = z.output<typeof utilityAnswerSchema>;

const DAY_MS = 86_400_000;

/** The device certificate's subject, one line ("CN=…, O=…"). */
export function certSubject(pem: string): string {
  return new X509Certificate(pem).subject.split('\n').join(', ');
}

/** A ramp's rate as % of rated power per second (setGradW / 100): opModMaxLimW's is one already. */
function pctPerS(q: string, ratePerS: number | null, ratedW: number | undefined): number | null {
  if (ratePerS === null) return null;
  if (q === 'opModMaxLimW') return ratePerS;
  return ratedW ? (ratePerS / ratedW) * 100 : null;
}

export function utilityStatus(u: UtilityRuntime, now: number, compliance: ComplianceRecorder | null, subject: string): UtilityStatus {
  const last = u.lastEvaluation();
  const result = last?.result ?? u.client.limits();
  return utilityStatusSchema.parse({
    configured: true,
    now,
    evaluatedAt: last?.at ?? null,
    limits: QUANTITIES.flatMap((q) => {
      const l = result.limits[q];
      if (!l) return [];
      const r = (RAMPED as readonly string[]).includes(q) ? u.ramping()[q as RampedQuantity] : undefined;
      return [
        {
          quantity: q,
          value: l.value,
          source: l.source,
          ...(r ? { ramp: { target: r.target, ratePerS: r.ratePerS, pctPerS: pctPerS(q, r.ratePerS, u.ratedW()) } } : {}),
        },
      ];
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
    device: {
      lfdi: u.client.identity.lfdi,
      sfdi: String(u.client.identity.sfdi),
      certSubject: subject,
      certExpiresAt: u.certExpiresAt,
      certDaysLeft: Math.floor((u.certExpiresAt - now) / DAY_MS),
    },
    server: {
      url: u.config.server,
      reachable: u.client.reachable,
      lastContactAt: u.client.lastContactAt,
      lastError: u.client.lastError,
      timeOffsetMs: u.client.timeOffsetMs,
      resources: u.client.polled().length,
      problems: u.client.problems(),
    },
    compliance: compliance?.figures(now) ?? [],
  });
}

/** GET /api/utility; registered without a `csip:` section too, so the UI can say how to configure it. */
export function registerUtilityRoutes(routes: RouteRegistry, u: UtilityRuntime | null, now: () => number, compliance: ComplianceRecorder | null = null): void {
  const subject = u ? certSubject(readFileSync(u.config.cert, 'utf8')) : '';
  routes.add({
    method: 'GET',
    url: '/api/utility',
    summary:
      "The utility's limits in force per quantity (W; opModMaxLimW in %) with their source (event mRID, DefaultDERControl or the site's fallback) and, while a looser one still ramps up, its target and rate, active and upcoming events, the device's LFDI, SFDI and certificate (subject, expiry, days left), the link to the 2030.5 server (reachable, last contact, the problems per resource not yet cleared by a success), and the compliance figures per quantity (today and the last 7 days: seconds within and above the limit, energy above it, the largest excess, the last event's time to meet the limit); {configured: false} without a csip section",
    role: 'viewer',
    handler: (): UtilityAnswer => (u ? utilityStatus(u, now(), compliance, subject) : { configured: false }),
  });
}
