import { localTime, parseHhmm } from './local-time.js';
import type { AutonomyLevel, DisconnectPolicy, ProposalInput, ReconnectAtL2 } from './types.js';

/** What the gate does with a proposal: refuse it, queue it for an operator, or run it now. */
export type Decision = { readonly outcome: 'refuse'; readonly why: string } | { readonly outcome: 'needs-approval' | 'execute'; readonly why: string };

export interface DecisionContext {
  readonly policy: DisconnectPolicy;
  /** The effective level of supply-disconnect on this relay (an escalated L3 acts as L2). */
  readonly autonomy: AutonomyLevel;
  readonly protectedCustomer: boolean;
  /** An operator's override keeps this relay closed. */
  readonly heldClosed: boolean;
  readonly nowMs: number;
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Why a disconnect may not happen at this instant, or null when the policy allows it. */
export function blackoutReason(policy: DisconnectPolicy, nowMs: number): string | null {
  const t = localTime(nowMs, policy.timeZone);
  const at = `${t.date} ${String(Math.floor(t.minutes / 60)).padStart(2, '0')}:${String(t.minutes % 60).padStart(2, '0')} ${policy.timeZone}`;
  if (policy.holidays.includes(t.date)) return `no disconnects on holidays (${at})`;
  if (policy.noDisconnectWeekdays.includes(t.weekday)) return `no disconnects on ${DAY_NAMES[t.weekday]} (${at})`;
  for (const w of policy.noDisconnectWindows) {
    const from = parseHhmm(w.from);
    const to = parseHhmm(w.to);
    const inside = from <= to ? t.minutes >= from && t.minutes < to : t.minutes >= from || t.minutes < to;
    if (inside) return `no disconnects between ${w.from} and ${w.to} (${at})`;
  }
  return null;
}

/** The name of the rule below, as written in audit entries and docs/architecture.md. */
export const RESTORE_SUPPLY_RULE = 'restore-supply';

/**
 * Rule `restore-supply`: what a reconnect the system proposes (a customer paid) may do by itself.
 * Reconnecting restores supply, the direction of safety and supply quality (the customer's neutral
 * state, as the safe state is the edge cycle's), so by default it runs without a person at L2 as at L3,
 * at any hour, and says so in its audit entry. A site whose operators want to see every switch sets
 * `governance.reconnectAtL2: supervised`: then it waits for approval at L2 like a disconnect. At L1
 * the system never switches. This is the only place that decides it.
 */
export function restoreSupplyRule(autonomy: AutonomyLevel, atL2: ReconnectAtL2): Decision {
  if (autonomy === 'L1') return { outcome: 'refuse', why: 'supply-disconnect is L1 (manual): a person reconnects on site or with the button' };
  if (autonomy === 'L3') return { outcome: 'execute', why: `autonomous (L3): restoring supply (rule ${RESTORE_SUPPLY_RULE})` };
  if (atL2 === 'supervised')
    return {
      outcome: 'needs-approval',
      why: `supervised (L2), and this site gates reconnects too (governance.reconnectAtL2: supervised): waiting for an operator`,
    };
  return {
    outcome: 'execute',
    why: `rule ${RESTORE_SUPPLY_RULE}: a reconnect restores supply, so it runs without a person at L2 (governance.reconnectAtL2: unattended)`,
  };
}

/**
 * The gate's rule, pure: the same proposal, policy and clock give the same answer, so every
 * decision can be tested and explained. Restoring supply is allowed at any hour; whether the system's
 * reconnect waits for a person is `restoreSupplyRule`.
 */
export function decide(p: ProposalInput, ctx: DecisionContext): Decision {
  const human = p.proposedBy.kind === 'user';
  if (p.capability === 'reconnect') {
    if (human) return { outcome: 'execute', why: `restoring supply, commanded by ${p.proposedBy.username}` };
    return restoreSupplyRule(ctx.autonomy, ctx.policy.reconnectAtL2);
  }
  if (ctx.heldClosed) return { outcome: 'refuse', why: 'an operator override keeps this relay closed' };
  if (!human && ctx.autonomy === 'L1') return { outcome: 'refuse', why: 'disconnect autonomy is L1 (manual): only a person may propose it' };
  if (!human && ctx.protectedCustomer) return { outcome: 'refuse', why: 'protected customer: never disconnected automatically' };
  const blackout = blackoutReason(ctx.policy, ctx.nowMs);
  if (blackout) return { outcome: 'refuse', why: blackout };
  // A person's command is itself the human decision; a system proposal runs alone only at L3.
  if (human) return { outcome: 'execute', why: `commanded by ${p.proposedBy.username}` };
  if (ctx.autonomy === 'L3') return { outcome: 'execute', why: 'autonomous (L3) within policy' };
  return { outcome: 'needs-approval', why: 'supervised (L2): waiting for an operator' };
}
