import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from '#zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { ASSET_CAPABILITIES } from '../governance/actions.js';
import type { AuditLog } from '../governance/audit-log.js';
import { auditPage, type AuditPageQuery } from '../governance/audit-page.js';
import type { ChannelValue } from '../channels/value.js';
import { ControlError, type ControlRuntime } from './control-runtime.js';

/**
 * The edge cycle's HTTP API (issue 10 item 9): cycle health and decisions, the mode (which controllers
 * run), L2 proposals and their approval, human overrides, escalations, and the audit log with its
 * hash-chain check. Every change is made by a named person and audited.
 */
async function errors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ControlError) throw new HttpError(e.status, e.message);
    throw e;
  }
}

function who(user: { username: string } | null): string {
  if (!user) throw new HttpError(401, 'log in first');
  return user.username;
}

/** Shared with the remote commands (src/remote/), so an MQTT command is checked exactly like the HTTP body. */
export const reason = z.string().min(1, 'say why, in a few words').max(500);
const idParams = z.object({ id: z.coerce.number().int().positive() }).strict();
export const asset = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a component name such as ess0');
export const modeBody = z.object({ controllers: z.array(z.record(z.string(), z.unknown())).max(20), reason }).strict();
export const overrideFields = {
  asset,
  // 1 MW either way bounds any mini-grid asset; the safety envelope then caps it at the asset's own limits.
  setpoint: z.number().min(-1_000_000, 'must be at least -1,000,000 W').max(1_000_000, 'must be at most 1,000,000 W').optional(),
  mode: z.enum(['charge', 'discharge', 'idle']).optional(),
  minutes: z
    .number()
    .positive()
    .max(24 * 60),
  reason,
};
/** An override is a setpoint or a battery mode, never both. */
export const setpointOrMode: [(b: { setpoint?: number; mode?: string }) => boolean, { error: string; path: string[] }] = [
  (b) => (b.setpoint === undefined) !== (b.mode === undefined),
  { error: 'give either setpoint or mode, not both and not neither', path: ['setpoint'] },
];
export const overrideBody = z
  .object(overrideFields)
  .strict()
  .refine(...setpointOrMode);

/** Where the flow view reads live values: the process image (src/channels/process-image.ts) and the site's clock. */
export interface LiveValues {
  component(component: string): Readonly<Record<string, ChannelValue>>;
  readonly now: () => number;
}

const PHASE_NAMES = ['L1', 'L2', 'L3'] as const;
type Shown = ChannelValue | null;
interface Power {
  readonly total: Shown;
  readonly phases: Readonly<Record<(typeof PHASE_NAMES)[number], Shown>>;
}

/** The worst quality and the oldest time of the parts; null when any part is missing. */
function sum(parts: readonly Shown[]): Shown {
  if (parts.some((p) => p === null || p.value === null)) return null;
  const ok = parts as readonly ChannelValue[];
  const quality = ok.some((p) => p.quality === 'ERROR') ? 'ERROR' : ok.some((p) => p.quality === 'STALE') ? 'STALE' : 'GOOD';
  return { value: ok.reduce((a, p) => a + (p.value ?? 0), 0), ts: Math.min(...ok.map((p) => p.ts)), quality };
}

/**
 * The latest values of the steered components for the energy-flow view (GET /api/control/flow), with
 * the snapshot's sign conventions (src/edge/snapshot.ts): grid import positive; battery discharge
 * positive; PV and generator production positive. The load is not metered: it is derived per phase as
 * `grid + battery + pv + generator`, as old and as bad as its worst part, and null when a part is missing.
 */
export function flowOf(control: ControlRuntime, live: LiveValues): Record<string, unknown> {
  const caps = control.cycle.controlPlan.caps;
  const power = (component: string): Power => {
    const v = live.component(component);
    return { total: v['ActivePower'] ?? null, phases: { L1: v['ActivePower_L1'] ?? null, L2: v['ActivePower_L2'] ?? null, L3: v['ActivePower_L3'] ?? null } };
  };
  const ch = (component: string, channel: string): Shown => live.component(component)[channel] ?? null;
  // The grid frequency with the power: frequency droop responds to it (the Steering page shows both).
  const grid = caps.grid ? { component: caps.grid.component, ...power(caps.grid.component), frequency: ch(caps.grid.component, 'Frequency') } : null;
  const batteries = caps.batteries.map((b) => ({
    component: b.component,
    kind: b.kind,
    maxChargeW: b.maxChargeW,
    maxDischargeW: b.maxDischargeW,
    ...power(b.component),
    soc: ch(b.component, 'Soc'),
    allowedChargeW: ch(b.component, 'AllowedChargePower'),
    allowedDischargeW: ch(b.component, 'AllowedDischargePower'),
    capacityWh: ch(b.component, 'Capacity'),
  }));
  const pv = caps.pv.map((p) => ({ component: p.component, ratedW: p.ratedW, ...power(p.component), limitW: ch(p.component, 'ActivePowerLimit') }));
  const generators = caps.generators.map((g) => ({ component: g.component, ...power(g.component), running: ch(g.component, 'Running') }));
  const sources = [...batteries, ...pv, ...generators];
  const load = grid
    ? {
        total: sum([grid.total, ...sources.map((s) => s.total)]),
        phases: Object.fromEntries(PHASE_NAMES.map((p) => [p, sum([grid.phases[p], ...sources.map((s) => s.phases[p])])])),
        derived: 'grid + battery + pv + generator',
      }
    : null;
  return {
    now: live.now(),
    signs: {
      grid: 'W, positive = import from the grid, negative = export',
      battery: 'W, positive = discharging, negative = charging',
      pv: 'W, production positive',
      generator: 'W, production positive',
      load: 'W, consumption positive',
    },
    grid,
    batteries,
    pv,
    generators,
    load,
  };
}

export function registerControlRoutes(
  routes: RouteRegistry,
  control: ControlRuntime,
  audit: AuditLog,
  live?: LiveValues,
  /** auditPage on the read worker (system.ts), which answers the request. Without it, on this thread. */
  offThread?: (q: AuditPageQuery, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  if (live) {
    routes.add({
      method: 'GET',
      url: '/api/control/flow',
      summary:
        'Energy flow now: grid, batteries (SoC, allowed power), PV, generators and the derived load, total and per phase, each value with its quality and time (grid import positive, battery discharge positive, production positive)',
      role: 'viewer',
      handler: () => flowOf(control, live),
    });
  }
  routes.add({
    method: 'GET',
    url: '/api/control',
    summary:
      'Edge cycle health (duration and start jitter p50/p99, overruns), controllers with status, modes, the last decisions with why and what bound them, recommendations, overrides, escalations',
    role: 'viewer',
    handler: () => control.status(),
  });
  routes.add({
    method: 'GET',
    url: '/api/control/decisions',
    summary: 'The last cycles (up to 300, in memory) with every decision',
    role: 'viewer',
    query: z.object({ cycles: z.coerce.number().int().min(1).max(300).default(20) }).strict(),
    handler: ({ query }) => ({ cycles: control.log.recent(query.cycles) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/control/mode',
    summary: 'Switch which controllers run and with which settings (the whole list, as in the site file control.controllers), e.g. peak shaving with limits',
    role: 'operator',
    body: modeBody,
    handler: ({ body, user }) =>
      errors(() => {
        control.setMode(body.controllers, who(user), body.reason);
        return { controllers: control.controllerConfigList() };
      }),
  });
  routes.add({
    method: 'GET',
    url: '/api/control/proposals',
    summary: 'Level 2 proposals of the edge cycle, newest first (state=pending is the approval queue)',
    role: 'viewer',
    query: z.object({ state: z.enum(['pending', 'approved', 'rejected', 'expired']).optional() }).strict(),
    handler: ({ query }) => ({ proposals: control.proposals.list(query.state) }),
  });
  routes.add({
    method: 'POST',
    url: '/api/control/proposals/:id/approve',
    summary: 'Approve a pending proposal: the approved value is actuated (inside the safety envelope) until the approval expires',
    role: 'operator',
    params: idParams,
    handler: ({ params, user }) => errors(() => ({ proposal: control.approve(params.id, who(user)) })),
  });
  routes.add({
    method: 'POST',
    url: '/api/control/proposals/:id/reject',
    summary: 'Reject a pending proposal, saying why',
    role: 'operator',
    params: idParams,
    body: z.object({ reason }).strict(),
    handler: ({ params, body, user }) => errors(() => ({ proposal: control.reject(params.id, who(user), body.reason) })),
  });
  routes.add({
    method: 'POST',
    url: '/api/control/override',
    summary:
      'Take an asset by hand for a set time: a setpoint (battery W discharge positive, PV limit W, generator or relay 0/1) or a battery mode; safety limits still apply',
    role: 'operator',
    body: overrideBody,
    handler: ({ body, user }) => errors(() => ({ override: control.override(body, who(user)) })),
  });
  routes.add({
    method: 'DELETE',
    url: '/api/control/override/:asset',
    summary: 'End a human override of an asset before its time',
    role: 'operator',
    params: z.object({ asset }).strict(),
    query: z.object({ reason: reason.optional() }).strict(),
    handler: ({ params, query, user }) =>
      errors(() => {
        if (!control.releaseOverride(params.asset, who(user), query.reason ?? 'released by hand'))
          throw new ControlError(`${params.asset} has no override`, 404);
        return { asset: params.asset, released: true };
      }),
  });
  routes.add({
    method: 'POST',
    url: '/api/control/escalations/confirm',
    summary: 'A person confirms an escalated capability: it returns from L2 to L3',
    role: 'operator',
    body: z.object({ capability: z.enum(ASSET_CAPABILITIES), asset }).strict(),
    handler: ({ body, user }) =>
      errors(() => {
        if (!control.confirm(body.capability, body.asset, who(user))) throw new ControlError(`${body.capability} on ${body.asset} is not escalated`, 404);
        return { capability: body.capability, asset: body.asset, confirmed: true };
      }),
  });
  routes.add({
    method: 'GET',
    url: '/api/control/audit',
    summary:
      'The hash-chained audit log (decisions, proposals, approvals, overrides, writes), from <= ts < to, the newest `limit` (before entry `beforeId` when given: the next page back); verify=1 walks the chain',
    role: 'viewer',
    query: z
      .object({
        from: z.coerce.number().int().nonnegative().optional(),
        to: z.coerce.number().int().nonnegative().optional(),
        beforeId: z.coerce.number().int().positive().optional(),
        verify: z.enum(['0', '1']).optional(),
        limit: z.coerce.number().int().min(1).max(5000).default(500),
      })
      .strict(),
    handler: ({ query, req, reply }) => {
      // What the cycle decided so far is written first (here: the log is this thread's), then read.
      control.log.flush(Number.MAX_SAFE_INTEGER, true);
      const q = { from: query.from, to: query.to, beforeId: query.beforeId, verify: query.verify === '1', limit: query.limit };
      return offThread ? offThread(q, req, reply) : auditPage(audit.db, q);
    },
  });
}
