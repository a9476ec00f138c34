import { z } from '#zod';
import { HttpError, type RouteRegistry } from '../api/route.js';
import type { GovernanceGate } from '../governance/gate.js';
import type { Hold } from '../governance/governance-settings.js';

export interface SupplyRouteDeps {
  readonly gate: GovernanceGate;
  readonly customerExists: (id: string) => boolean;
  /** The meter whose relay supplies the customer now (a relay-wired one first), or undefined. */
  readonly meterOf: (customerId: string) => number | undefined;
  readonly hasRelay: (meter: number) => boolean;
  readonly holdOn: (meter: number) => Hold | undefined;
}

const params = z.object({ id: z.string().min(1) }).strict();
const body = z.object({ reason: z.string().min(1).max(500) }).strict();

function who(user: { username: string } | null): string {
  if (!user) throw new HttpError(401, 'log in first');
  return user.username;
}

/**
 * What a disconnect/reconnect button on a customer needs, by customer rather than by meter. Both
 * commands pass the governance gate and land in the audit log with the operator's name and reason:
 * - disconnect is a proposal by a person, which the gate executes at once (a person's command is the
 *   human decision) unless the policy refuses it (no-disconnect window, an override hold): 409 with why;
 * - reconnect is the operator override "close": the relay is closed now and any pending disconnect
 *   proposal of the meter is withdrawn. A relay that does not do what it was told answers 502.
 */
export function registerSupplyRoutes(routes: RouteRegistry, d: SupplyRouteDeps): void {
  const meterFor = (id: string, requireRelay: boolean): number => {
    const meter = d.meterOf(id);
    if (meter === undefined) throw new HttpError(409, `customer ${id} has no meter assigned now`);
    if (requireRelay && !d.hasRelay(meter))
      throw new HttpError(409, `meter ${meter} of customer ${id} has no relay wired, so its supply cannot be switched from here`);
    return meter;
  };
  const state = (id: string) => {
    const meter = d.meterOf(id);
    if (meter === undefined) return { customer: id, meter: null, hasRelay: false, disconnected: false, pendingDisconnect: null, hold: null };
    const p = d.gate.openProposal(meter, 'disconnect');
    const hold = d.holdOn(meter);
    return {
      customer: id,
      meter,
      hasRelay: d.hasRelay(meter),
      disconnected: d.gate.isDisconnected(meter),
      pendingDisconnect: p ? { id: p.id, state: p.state, createdAt: p.createdAt, reason: p.reason } : null,
      hold: hold ? { by: hold.by, since: hold.since, until: hold.until, reason: hold.reason } : null,
    };
  };
  const known = (id: string): void => {
    if (!d.customerExists(id)) throw new HttpError(404, `no customer ${id}`);
  };
  routes.add({
    method: 'GET',
    url: '/api/customers/:id/supply',
    summary:
      "A customer's supply for the disconnect/reconnect buttons: meter, hasRelay, disconnected (the relay's last audited switch), pendingDisconnect {id, state, createdAt, reason} or null, hold {by, since, until, reason} or null",
    role: 'viewer',
    params,
    handler: ({ params: p }) => {
      known(p.id);
      return state(p.id);
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/customers/:id/disconnect',
    summary:
      "An operator disconnects a customer now, saying why: a person's proposal through the governance gate (policy checked, relay read back, audited); 409 with the reason when the policy refuses (no-disconnect window, override hold) or a more critical capability holds the relay (naming it), 502 when the relay fails",
    role: 'operator',
    params,
    body,
    handler: async ({ params: p, body: b, user }) => {
      known(p.id);
      const meter = meterFor(p.id, true);
      const r = await d.gate.propose({
        capability: 'disconnect',
        asset: { customer: p.id, meter },
        reason: b.reason,
        proposedBy: { kind: 'user', username: who(user) },
      });
      if (!r.created) throw new HttpError(409, `disconnect of ${p.id} refused: ${r.why}`);
      if (r.proposal.state === 'failed') throw new HttpError(502, `disconnect of ${p.id} failed at the relay: ${r.proposal.why ?? 'no detail'}`);
      return { proposal: r.proposal, supply: state(p.id) };
    },
  });
  routes.add({
    method: 'POST',
    url: '/api/customers/:id/reconnect',
    summary:
      "An operator reconnects a customer now, saying why: the governance override 'close' (relay closed and read back, pending disconnects withdrawn, audited); 409 naming the holder when a more critical capability holds the relay open, 502 when the relay fails",
    role: 'operator',
    params,
    body,
    handler: async ({ params: p, body: b, user }) => {
      known(p.id);
      const meter = meterFor(p.id, true);
      const r = await d.gate.override(meter, p.id, who(user), { action: 'close', reason: b.reason });
      if (r.outranked) throw new HttpError(409, `reconnect of ${p.id} refused: ${r.detail}`);
      if (!r.done) throw new HttpError(502, `reconnect of ${p.id} failed at the relay: ${r.detail}`);
      return { detail: r.detail, supply: state(p.id) };
    },
  });
}
