import type { AutonomyLevel } from './types.js';
import { whole } from '../util/text-number.js';

/**
 * Governance of physical actions: capabilities x assets x autonomy level (docs/ems-modes.md#autonomy-levels).
 * Pure, like `decide.ts`: the same request, context and time
 * give the same decision, and the caller writes the audit entry it returns.
 *
 * - L1 (manual local operation): the system never actuates; it shows the recommended action to the
 *   people on site. Only a person's override writes.
 * - L2 (automated supervisory control): an action is a proposal; it runs only with a person's
 *   approval that has not expired, and then only the approved value.
 * - L3 (autonomous supervisory control): the system acts within policy and the safety envelope; when
 *   a limit binds or its inputs are poor it still takes the safe action, and escalates: the
 *   capability drops to L2 until a person confirms.
 * - A human override takes an asset for a set time, at any level. Safety still applies: every written
 *   value lies inside the safety envelope, whoever asked for it.
 */
export const ASSET_CAPABILITIES = [
  'battery-dispatch',
  'pv-curtailment',
  'generator-operation',
  'load-shedding',
  'islanding',
  'ev-charging',
  'supply-disconnect',
] as const;
export type AssetCapability = (typeof ASSET_CAPABILITIES)[number];

/** The seed's criticality classes, most critical first; a higher class outranks a lower one on the same asset. */
export const CRITICALITY_CLASSES = ['safety', 'supply-quality', 'business', 'optimisation'] as const;
export type CriticalityClass = (typeof CRITICALITY_CLASSES)[number];

/**
 * The class of each capability (docs/ems-modes.md#criticality): emergency load shedding and islanding
 * are safety; the export limit is supply quality; disconnecting a customer for arrears is business.
 */
export const CAPABILITY_CLASS: Readonly<Record<AssetCapability, CriticalityClass>> = {
  'battery-dispatch': 'optimisation',
  'pv-curtailment': 'supply-quality',
  'generator-operation': 'supply-quality',
  'load-shedding': 'safety',
  islanding: 'safety',
  'ev-charging': 'optimisation',
  'supply-disconnect': 'business',
};

/** Whether class `a` outranks class `b` (strictly more critical). */
export const outranks = (a: CriticalityClass, b: CriticalityClass): boolean => CRITICALITY_CLASSES.indexOf(a) < CRITICALITY_CLASSES.indexOf(b);

/**
 * Defaults from the seed's "Applying the Framework" table (docs/ems-modes.md#autonomy-levels): battery
 * dispatch L3, generator operation L1, charging orchestration L3, service disconnection by a smart
 * relay L3 (still only inside the no-disconnect windows, never for a protected customer or a held
 * relay). Capabilities the table does not list are safety-critical (emergency load shedding,
 * islanding) or the export limit a utility imposes (PV curtailment): autonomous, because a person
 * cannot answer within a cycle.
 */
export const DEFAULT_ACTION_AUTONOMY: Readonly<Record<AssetCapability, AutonomyLevel>> = {
  'battery-dispatch': 'L3',
  'pv-curtailment': 'L3',
  'generator-operation': 'L1',
  'load-shedding': 'L3',
  islanding: 'L3',
  'ev-charging': 'L3',
  'supply-disconnect': 'L3',
};

/** Which capability a command channel exercises. */
export function capabilityOfTarget(target: string, relayRole?: 'shed' | 'critical' | 'pcc'): AssetCapability | undefined {
  const channel = target.slice(target.indexOf('/') + 1);
  if (
    /^(SetActivePower|SetReactivePower)(_L[123])?$/.test(channel) ||
    ['OutputPriority', 'ChargerPriority', 'MaxChargeCurrent', 'MaxAcChargeCurrent'].includes(channel)
  )
    return 'battery-dispatch';
  if (/^ActivePowerLimit(_L[123])?$/.test(channel)) return 'pv-curtailment';
  if (channel === 'SetRunning') return 'generator-operation';
  if (channel === 'SetChargeLimit') return 'ev-charging';
  if (channel === 'SetClosed') return relayRole === 'pcc' ? 'islanding' : 'load-shedding';
  return undefined;
}

/** A person's takeover of an asset's command until `untilMs`. */
export interface Override {
  readonly by: string;
  readonly target: string;
  readonly value: number;
  readonly untilMs: number;
  readonly reason: string;
}

/** A person's approval of one value for one command, valid until `expiresAtMs`. */
export interface Approval {
  readonly proposalId: number;
  readonly by: string;
  readonly target: string;
  readonly value: number;
  readonly atMs: number;
  readonly expiresAtMs: number;
}

/** An L3 capability dropped to L2 until a person confirms. */
export interface Escalation {
  readonly sinceMs: number;
  readonly why: string;
}

export interface ActionRequest {
  readonly asset: string;
  readonly capability: AssetCapability;
  readonly target: string;
  /** The value the resolver chose, already inside the envelope. */
  readonly value: number;
  /** The safety envelope of this command now. */
  readonly envelope: { readonly min: number; readonly max: number };
  /** A constraint (safety or a controller's limit) bound the value this cycle. */
  readonly limitHit: string | null;
  /** The controller failed or its measurements were stale this cycle. */
  readonly inputsPoor: string | null;
  readonly why: string;
  /**
   * The utility's limits on this command now (the connection's obligations). A person's override or
   * approval is brought within them only toward rest (0): they may lessen what was asked, never make the
   * asset do more than asked (an import limit never makes an idled battery discharge).
   */
  readonly obligation?: { readonly min: number; readonly max: number; readonly why: string };
}

/** `v` moved toward 0 as far as the obligation asks, never past 0. */
function towardRest(v: number, o: { readonly min: number; readonly max: number }): number {
  if (v > 0) return Math.max(0, Math.min(v, o.max));
  if (v < 0) return Math.min(0, Math.max(v, o.min));
  return v;
}

/** A person's value within the envelope, then lessened by the utility's obligation; the words say what bound it. */
function personValue(asked: number, req: ActionRequest, verb: string): { value: number; note: string } {
  const safe = clamp(asked, req.envelope);
  const value = req.obligation ? towardRest(safe, req.obligation) : safe;
  let note = safe !== asked ? `; limited by safety to ${whole(safe)} (${verb} ${whole(asked)})` : '';
  if (value !== safe && req.obligation) note += `; lessened to ${whole(value)} by ${req.obligation.why}`;
  return { value, note };
}

export interface ActionContext {
  readonly level: AutonomyLevel;
  readonly escalation: Escalation | null;
  readonly override: Override | null;
  readonly approval: Approval | null;
  /** How long an L2 proposal waits for a person (ms). */
  readonly proposalTtlMs: number;
  readonly nowMs: number;
}

export interface AuditDraft {
  readonly ts: number;
  readonly actor: string;
  readonly action: string;
  readonly detail: string;
}

export type ActionDecision =
  | {
      readonly outcome: 'actuate';
      readonly value: number;
      readonly authority: 'L3-policy' | 'approval' | 'override';
      readonly by: string;
      readonly why: string;
      readonly audit: AuditDraft;
      readonly escalate: Escalation | null;
    }
  | { readonly outcome: 'recommend'; readonly value: number; readonly why: string; readonly audit: null; readonly escalate: null }
  | {
      readonly outcome: 'propose';
      readonly value: number;
      readonly expiresAtMs: number;
      readonly why: string;
      readonly audit: AuditDraft | null;
      readonly escalate: null;
    };

const clamp = (x: number, e: { min: number; max: number }): number => Math.min(e.max, Math.max(e.min, x));

/** The effective level: an escalated L3 capability acts as L2 until confirmed. */
export const effectiveLevel = (ctx: Pick<ActionContext, 'level' | 'escalation'>): AutonomyLevel => (ctx.level === 'L3' && ctx.escalation ? 'L2' : ctx.level);

export function decideAction(req: ActionRequest, ctx: ActionContext): ActionDecision {
  const t = ctx.nowMs;
  const o = ctx.override;
  if (o && o.target === req.target && t < o.untilMs) {
    const { value: v, note } = personValue(o.value, req, 'asked');
    const why = `override by ${o.by} until ${new Date(o.untilMs).toISOString()}: ${o.reason}${note}`;
    return {
      outcome: 'actuate',
      value: v,
      authority: 'override',
      by: o.by,
      why,
      audit: { ts: t, actor: o.by, action: 'actuate', detail: `${req.target} = ${whole(v)} (${req.capability}, ${why})` },
      escalate: null,
    };
  }
  const level = effectiveLevel(ctx);
  if (level === 'L1') {
    return {
      outcome: 'recommend',
      value: req.value,
      why: `${req.capability} is L1 (manual): recommended ${req.target} = ${whole(req.value)} for the people on site (${req.why})`,
      audit: null,
      escalate: null,
    };
  }
  if (level === 'L2') {
    const a = ctx.approval;
    if (a && a.target === req.target && t >= a.atMs && t < a.expiresAtMs) {
      const { value: v, note } = personValue(a.value, req, 'approved');
      const why = `approved by ${a.by} (proposal ${a.proposalId}) until ${new Date(a.expiresAtMs).toISOString()}${note}`;
      return {
        outcome: 'actuate',
        value: v,
        authority: 'approval',
        by: a.by,
        why,
        audit: { ts: t, actor: a.by, action: 'actuate', detail: `${req.target} = ${whole(v)} (${req.capability}, ${why})` },
        escalate: null,
      };
    }
    const reason =
      ctx.level === 'L3' && ctx.escalation
        ? `escalated to L2 since ${new Date(ctx.escalation.sinceMs).toISOString()} (${ctx.escalation.why})`
        : `${req.capability} is L2 (supervised)`;
    return {
      outcome: 'propose',
      value: req.value,
      expiresAtMs: t + ctx.proposalTtlMs,
      why: `${reason}: waiting for a person to approve ${req.target} = ${whole(req.value)} (${req.why})`,
      audit: null,
      escalate: null,
    };
  }
  // L3: act within policy; the value is already inside the envelope (clamped again, to be sure).
  const v = clamp(req.value, req.envelope);
  const trouble = req.inputsPoor ?? req.limitHit;
  const escalate = trouble ? { sinceMs: t, why: req.inputsPoor ? `inputs poor: ${req.inputsPoor}` : `limit hit: ${req.limitHit}` } : null;
  const why = `autonomous (L3) within policy: ${req.why}${escalate ? `; escalating to L2 (${escalate.why})` : ''}`;
  return {
    outcome: 'actuate',
    value: v,
    authority: 'L3-policy',
    by: 'system',
    why,
    audit: { ts: t, actor: 'system', action: 'actuate', detail: `${req.target} = ${whole(v)} (${req.capability}, ${why})` },
    escalate,
  };
}

/** A person confirms an escalated capability: it returns to L3. Audited by the caller. */
export function confirmEscalation(esc: Escalation | null, by: string, nowMs: number): { readonly escalation: null; readonly audit: AuditDraft | null } {
  return {
    escalation: null,
    audit: esc
      ? {
          ts: nowMs,
          actor: by,
          action: 'escalation-confirmed',
          detail: `back to L3 after escalation since ${new Date(esc.sinceMs).toISOString()} (${esc.why})`,
        }
      : null,
  };
}
