import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from '#zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import type { AuditLog } from './audit-log.js';
import { GovernanceError, type GovernanceGate } from './gate.js';
import { AUTONOMY_LEVELS, type ProposalState } from './types.js';

export interface GovernanceRouteDeps {
  readonly gate: GovernanceGate;
  readonly audit: AuditLog;
  /** The customer supplied through a meter, for the audit record of an override. */
  readonly customerOfMeter?: (meter: number) => string | null;
  /** The audit list read and serialised off this thread (a month is tens of thousands of entries); sends the answer. */
  readonly auditList?: (from: number | undefined, to: number | undefined, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
}

const STATES = ['pending', 'approved', 'executed', 'rejected', 'expired', 'withdrawn', 'failed'] as const satisfies readonly ProposalState[];
const STATUS: Record<GovernanceError['reason'], number> = { not_found: 404, conflict: 409, refused: 409, outranked: 409 };
const idParams = z.object({ id: z.coerce.number().int().positive() }).strict();
const instant = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

async function httpErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GovernanceError) throw new HttpError(STATUS[e.reason], e.message);
    throw e;
  }
}

function who(user: { username: string } | null): string {
  if (!user) throw new HttpError(401, 'log in first');
  return user.username;
}

export function registerGovernanceRoutes(routes: RouteRegistry, deps: GovernanceRouteDeps): void {
  const { gate, audit } = deps;
  routes.add({
    method: 'GET',
    url: '/api/proposals',
    summary: 'Disconnect and reconnect proposals, oldest first, optionally in one state (pending = the approval queue)',
    role: 'viewer',
    query: z.object({ state: z.enum(STATES).optional() }).strict(),
    handler: ({ query }) => ({ proposals: gate.list(query.state) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/proposals/:id/approve',
    summary: 'Approve a pending proposal; the policy is checked again and the relay switched with read-back',
    role: 'operator',
    params: idParams,
    handler: ({ params, user }) => httpErrors(async () => ({ proposal: await gate.approve(params.id, who(user)) })),
  });
  routes.add({
    method: 'POST',
    url: '/api/proposals/:id/reject',
    summary: 'Reject a pending proposal, saying why',
    role: 'operator',
    params: idParams,
    body: z.object({ reason: z.string().min(1).max(500) }).strict(),
    handler: ({ params, body, user }) => httpErrors(() => ({ proposal: gate.reject(params.id, who(user), body.reason) })),
  });
  routes.add({
    method: 'GET',
    url: '/api/audit',
    summary: 'The governance audit log (who, when, what, why), from <= ts < to; unix ms or ISO 8601',
    role: 'viewer',
    query: z.object({ from: instant.optional(), to: instant.optional() }).strict(),
    handler: ({ query, req, reply }) =>
      deps.auditList ? deps.auditList(query.from, query.to, req, reply) : { entries: audit.list({ from: query.from, to: query.to }) },
  });
  routes.add({
    method: 'PUT',
    url: '/api/governance/autonomy',
    summary:
      "Set this site's level of supply-disconnect, both directions (L1 manual, L2 supervised, L3 autonomous); `disconnect` is its old name. A relay's own level in the site file's control.autonomy comes first",
    role: 'admin',
    body: z.object({ capability: z.enum(['supply-disconnect', 'disconnect']), level: z.enum(AUTONOMY_LEVELS) }).strict(),
    handler: ({ body, user }) => {
      gate.setAutonomy(body.capability, body.level, who(user));
      return { capability: body.capability, level: gate.autonomy() };
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/relays/:meter/override',
    summary:
      "Human override of a customer's relay: close it now, hold it closed (optionally until a time), or release a hold; 409 naming the holder when a more critical capability (load shedding, an edge-cycle override) holds the relay open, 502 when the relay fails",
    role: 'operator',
    params: z.object({ meter: z.coerce.number().int().min(1).max(247) }).strict(),
    body: z.discriminatedUnion('action', [
      z.object({ action: z.literal('close'), reason: z.string().min(1).max(500) }).strict(),
      z.object({ action: z.literal('hold'), reason: z.string().min(1).max(500), until: instant.optional() }).strict(),
      z.object({ action: z.literal('release'), reason: z.string().min(1).max(500) }).strict(),
    ]),
    handler: ({ params, body, user }) =>
      httpErrors(async () => {
        const r = await gate.override(params.meter, deps.customerOfMeter?.(params.meter) ?? null, who(user), body);
        // A more critical capability holds the relay: a conflict of rank, not a fault of the relay.
        if (r.outranked) throw new HttpError(409, `override of relay${params.meter} refused: ${r.detail}`);
        if (!r.done) throw new HttpError(502, r.detail);
        return { meter: params.meter, action: body.action, detail: r.detail };
      }),
  });
}
