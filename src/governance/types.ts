import { z } from '#zod';

/**
 * The two directions of the capability `supply-disconnect` (src/governance/actions.ts): one autonomy
 * level, one criticality class (business), one approvals queue and one audit log for both.
 */
export const CAPABILITIES = ['disconnect', 'reconnect'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** L1 manual: only a human may act. L2 supervised: an operator approves. L3 autonomous: within policy. */
export const AUTONOMY_LEVELS = ['L1', 'L2', 'L3'] as const;
export type AutonomyLevel = (typeof AUTONOMY_LEVELS)[number];

export type Actor = { readonly kind: 'system' } | { readonly kind: 'user'; readonly username: string };
export const actorName = (a: Actor): string => (a.kind === 'system' ? 'system' : a.username);

/** What a command acts on: the customer, their meter (model/Modbus id) and so their relay. */
export interface Asset {
  readonly customer: string;
  readonly meter: number;
}

export interface ProposalInput {
  readonly capability: Capability;
  readonly asset: Asset;
  readonly reason: string;
  readonly proposedBy: Actor;
}

/** Commercial actions rank below safety and supply quality (docs/ems-modes.md#criticality). */
export type Criticality = 'business-critical';

export type ProposalState = 'pending' | 'approved' | 'executed' | 'rejected' | 'expired' | 'withdrawn' | 'failed';

export interface Proposal extends ProposalInput {
  readonly id: number;
  readonly criticality: Criticality;
  readonly state: ProposalState;
  readonly createdAt: number;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  readonly why: string | null;
}

/** What a reconnect of the system does at L2: see `restoreSupplyRule` in decide.ts. */
export const RECONNECT_AT_L2 = ['unattended', 'supervised'] as const;
export type ReconnectAtL2 = (typeof RECONNECT_AT_L2)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24 h');

/** When a disconnect may not happen, in the site's time zone. */
export const disconnectPolicySchema = z
  .object({
    timeZone: z.string().default('Africa/Kampala'),
    /** Windows with no disconnects; `from` > `to` wraps past midnight (18:00-08:00 = nights). */
    noDisconnectWindows: z.array(z.object({ from: hhmm, to: hhmm }).strict()).default([{ from: '18:00', to: '08:00' }]),
    /** Local weekdays with no disconnects, 0 = Sunday. */
    noDisconnectWeekdays: z.array(z.number().int().min(0).max(6)).default([0, 6]),
    /** Local dates (YYYY-MM-DD) with no disconnects. */
    holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
    /**
     * Reconnecting a customer at L2 (decide.ts, rule `restore-supply`): `unattended` (default) runs it
     * without a person, because it restores supply; `supervised` makes it wait for approval too.
     */
    reconnectAtL2: z.enum(RECONNECT_AT_L2).default('unattended'),
    /** A pending proposal nobody decided expires after this long. */
    proposalTtlMs: z
      .number()
      .int()
      .positive()
      .default(24 * 3600_000),
  })
  .strict();
export type DisconnectPolicy = z.output<typeof disconnectPolicySchema>;
