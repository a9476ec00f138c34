import { z } from '#zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { ASSET_CAPABILITIES, CAPABILITY_CLASS, type AssetCapability, type CriticalityClass } from './actions.js';
import { GovernanceError, relayAsset, type GovernanceGate } from './gate.js';
import type { Proposal } from './types.js';

/**
 * One approvals queue for every capability (issue 10 item 8): the edge cycle's L2 proposals and
 * supply-disconnect's (billing) in one list, approved and rejected through one API. Each source keeps
 * its own store and rules; an id names its source (`control-7`, `supply-12`) so the two never collide.
 */
export interface ApprovalItem {
  readonly id: string;
  readonly source: string;
  readonly sourceId: number;
  readonly capability: AssetCapability;
  readonly criticality: CriticalityClass;
  readonly asset: string;
  /** The command channel and value: a relay's SetClosed 0 is a disconnect. */
  readonly target: string;
  readonly value: number;
  readonly state: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly why: string;
  readonly customer: string | null;
  /** Who decided it: a person, `policy` (a rule ran it without a person), `system` (expired, withdrawn), or null while pending. */
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
}

export interface EscalationItem {
  readonly source: string;
  readonly capability: string;
  readonly asset: string;
  readonly sinceMs: number;
  readonly why: string;
}

/** What a capability's governance offers the unified queue. Errors: ApprovalError with an HTTP status. */
export interface ApprovalSource {
  readonly source: string;
  list(state?: string): ApprovalItem[];
  approve(id: number, by: string): Promise<ApprovalItem>;
  reject(id: number, by: string, reason: string): Promise<ApprovalItem>;
  escalations(): EscalationItem[];
  /** False when this source does not govern that capability and asset or it is not escalated. */
  confirm(capability: AssetCapability, asset: string, by: string): boolean;
}

export class ApprovalError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 502,
  ) {
    super(message);
  }
}

const STATUS: Record<GovernanceError['reason'], 404 | 409> = { not_found: 404, conflict: 409, refused: 409, outranked: 409 };

function supplyItem(p: Proposal, ttlMs: number): ApprovalItem {
  return {
    id: `supply-${p.id}`,
    source: 'supply',
    sourceId: p.id,
    capability: 'supply-disconnect',
    criticality: CAPABILITY_CLASS['supply-disconnect'],
    asset: relayAsset(p.asset.meter),
    target: `${relayAsset(p.asset.meter)}/SetClosed`,
    value: p.capability === 'disconnect' ? 0 : 1,
    state: p.state,
    createdAt: p.createdAt,
    expiresAt: p.state === 'pending' ? p.createdAt + ttlMs : null,
    why: `${p.capability} ${p.asset.customer}: ${p.reason}${p.why ? ` (${p.why})` : ''}`,
    customer: p.asset.customer,
    decidedBy: p.decidedBy,
    decidedAt: p.decidedAt,
  };
}

/** supply-disconnect's proposals (the disconnect gate) as an approval source. */
export function supplyApprovalSource(gate: GovernanceGate, proposalTtlMs: number): ApprovalSource {
  const wrap = async <T>(fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof GovernanceError) throw new ApprovalError(e.message, STATUS[e.reason]);
      throw e;
    }
  };
  return {
    source: 'supply',
    list: (state) =>
      gate
        .list()
        .filter((p) => state === undefined || p.state === state)
        .map((p) => supplyItem(p, proposalTtlMs)),
    approve: (id, by) => wrap(async () => supplyItem(await gate.approve(id, by), proposalTtlMs)),
    reject: (id, by, reason) => wrap(() => supplyItem(gate.reject(id, by, reason), proposalTtlMs)),
    escalations: () => {
      const e = gate.escalation();
      return e ? [{ source: 'supply', capability: 'supply-disconnect', asset: 'site', sinceMs: e.sinceMs, why: e.why }] : [];
    },
    confirm: (capability, _asset, by) => capability === 'supply-disconnect' && gate.confirmEscalation(by),
  };
}

/** An approval's id (`control-7`, `supply-12`); shared with the remote commands (src/remote/). */
export const approvalId = z.string().regex(/^[a-z]{1,20}-[1-9]\d{0,14}$/, 'an approval id such as supply-12 or control-7 (a number up to 15 digits)');
const idParams = z.object({ id: approvalId }).strict();
const reason = z.string().min(1, 'say why, in a few words').max(500);

function who(user: { username: string } | null): string {
  if (!user) throw new HttpError(401, 'log in first');
  return user.username;
}

/** The source of an approval id (`control-7` → the edge cycle's, 7); an unknown source is an ApprovalError 404. */
export function approvalSourceOf(sources: readonly ApprovalSource[], id: string): { src: ApprovalSource; n: number } {
  const dash = id.lastIndexOf('-');
  const src = sources.find((s) => s.source === id.slice(0, dash));
  if (!src) throw new ApprovalError(`no approval source "${id.slice(0, dash)}"; sources: ${sources.map((s) => s.source).join(', ')}`, 404);
  return { src, n: Number(id.slice(dash + 1)) };
}

export function registerApprovalRoutes(routes: RouteRegistry, sources: readonly ApprovalSource[]): void {
  const find = (id: string): { src: ApprovalSource; n: number } => approvalSourceOf(sources, id);
  const errors = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApprovalError) throw new HttpError(e.status, e.message);
      throw e;
    }
  };
  routes.add({
    method: 'GET',
    url: '/api/approvals',
    summary:
      'Every proposal waiting for (or decided by) a person, of every capability: the edge cycle (battery, PV, generator, relays) and supply-disconnect (billing), newest first; state=pending is the approval queue',
    role: 'viewer',
    query: z
      .object({
        state: z
          .string()
          .regex(/^[a-z]+$/)
          .optional(),
      })
      .strict(),
    handler: ({ query }) => ({ proposals: sources.flatMap((s) => s.list(query.state)).sort((a, b) => b.createdAt - a.createdAt) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/approvals/:id/approve',
    summary: 'Approve a pending proposal of any capability (its own rules are checked again); a supply-disconnect switches the relay with read-back',
    role: 'operator',
    params: idParams,
    handler: ({ params, user }) =>
      errors(async () => {
        const { src, n } = find(params.id);
        return { proposal: await src.approve(n, who(user)) };
      }),
  });
  routes.add({
    method: 'POST',
    url: '/api/approvals/:id/reject',
    summary: 'Reject a pending proposal of any capability, saying why',
    role: 'operator',
    params: idParams,
    body: z.object({ reason }).strict(),
    handler: ({ params, body, user }) =>
      errors(async () => {
        const { src, n } = find(params.id);
        return { proposal: await src.reject(n, who(user), body.reason) };
      }),
  });
  routes.add({
    method: 'GET',
    url: '/api/escalations',
    summary: 'L3 capabilities that hit a limit or had poor inputs and now act as L2 until a person confirms',
    role: 'viewer',
    handler: () => ({ escalations: sources.flatMap((s) => s.escalations()) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/escalations/confirm',
    summary: 'A person confirms an escalated capability (asset `site` for supply-disconnect): it returns from L2 to L3',
    role: 'operator',
    body: z
      .object({
        capability: z.enum(ASSET_CAPABILITIES),
        asset: z
          .string()
          .max(64)
          .regex(/^[a-z][a-z0-9_]*$/),
      })
      .strict(),
    handler: ({ body, user }) => {
      const by = who(user);
      if (!sources.some((s) => s.confirm(body.capability, body.asset, by))) throw new HttpError(404, `${body.capability} on ${body.asset} is not escalated`);
      return { capability: body.capability, asset: body.asset, confirmed: true };
    },
  });
}
