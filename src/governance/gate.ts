import type { RelayBank } from '../relays/relay-bank.js';
import { systemClock } from '../util/clock.js';
import { CAPABILITY_CLASS, confirmEscalation, DEFAULT_ACTION_AUTONOMY, effectiveLevel, type Escalation } from './actions.js';
import type { AuditLog } from './audit-log.js';
import type { EscalationStore } from './escalations.js';
import { claimSentence, type RelayClaim, type RelayClaims } from './relay-claims.js';
import { blackoutReason, decide } from './decide.js';
import type { GovernanceSettings } from './governance-settings.js';
import type { ProposalStore } from './proposal-store.js';
import { actorName, type AutonomyLevel, type Capability, type DisconnectPolicy, type Proposal, type ProposalInput, type ProposalState } from './types.js';

export type RelayActuator = Pick<RelayBank, 'open' | 'close'>;

export class GovernanceError extends Error {
  constructor(
    /** `outranked`: a more critical capability holds the relay (relay-claims.ts); the message names it. */
    readonly reason: 'not_found' | 'conflict' | 'refused' | 'outranked',
    message: string,
  ) {
    super(message);
  }
}

export interface GateDeps {
  readonly site: string;
  readonly policy: DisconnectPolicy;
  readonly proposals: ProposalStore;
  readonly settings: GovernanceSettings;
  readonly audit: AuditLog;
  readonly relays: RelayActuator;
  readonly isProtected: (customer: string) => boolean;
  readonly clock?: () => number;
  /** The level of supply-disconnect set for one relay asset (`relay<meter>`) in the site file, if any. */
  readonly assetLevel?: (asset: string) => AutonomyLevel | undefined;
  /** L3 escalations of supply-disconnect; without it the gate never escalates. */
  readonly escalations?: EscalationStore;
  /** Why the readings a system disconnect of this meter rests on are poor (stale, in error), or null. */
  readonly inputsPoor?: (meter: number) => string | null;
  /** Tells people (alarm, webhook, SMS) that supply-disconnect dropped to L2. */
  readonly notify?: (e: { readonly capability: typeof CAPABILITY; readonly asset: string; readonly escalation: Escalation }) => void;
  /** A person confirmed the escalation: what `notify` raised (the alarm) is cleared. */
  readonly confirmed?: (e: { readonly capability: typeof CAPABILITY; readonly asset: string; readonly by: string }) => void;
  /** Relays held by a more critical capability (load shedding, an operator override): they outrank this one. */
  readonly claims?: RelayClaims;
}

/** The capability this gate governs, in the same table as the edge cycle's (src/governance/actions.ts). */
export const CAPABILITY = 'supply-disconnect';
/** Escalation covers the capability on the whole site: poor inputs or a relay limit are rarely one customer's. */
const SITE_ASSET = 'site';
export const relayAsset = (meter: number): string => `relay${meter}`;

/**
 * `windowClosed`: refused only because of a no-disconnect window (night, weekend, holiday), so worth proposing again later.
 * `existing`: an open proposal of the same meter and capability was returned instead of a new one.
 */
export type ProposeResult =
  | { readonly created: true; readonly proposal: Proposal; readonly existing?: boolean }
  | { readonly created: false; readonly why: string; readonly windowClosed: boolean; readonly outranked?: RelayClaim };

export type OverrideAction =
  { readonly action: 'close' | 'hold'; readonly reason: string; readonly until?: number } | { readonly action: 'release'; readonly reason: string };

/**
 * The only way a relay is switched for business reasons: every proposal passes the pure decision
 * function, waits for an operator when supervised, and every step lands in the audit log.
 */
export class GovernanceGate {
  private readonly now: () => number;

  constructor(private readonly d: GateDeps) {
    this.now = d.clock ?? systemClock;
    // A reconnect that waited for a safety claim runs when the claim ends.
    d.claims?.onRelease((meter) => void this.resumeDeferred(meter));
  }

  async propose(input: ProposalInput): Promise<ProposeResult> {
    const now = this.now();
    const base = { ts: now, customer: input.asset.customer, meter: input.asset.meter };
    // Poor inputs under L3: escalate before deciding, so this very proposal waits for a person.
    const poor = input.proposedBy.kind === 'system' && input.capability === 'disconnect' ? (this.d.inputsPoor?.(input.asset.meter) ?? null) : null;
    if (poor && this.effectiveAutonomy(input.asset.meter) === 'L3') this.escalate(`inputs poor: ${poor}`);
    const decision = decide(input, {
      policy: this.d.policy,
      autonomy: this.effectiveAutonomy(input.asset.meter),
      protectedCustomer: this.d.isProtected(input.asset.customer),
      heldClosed: this.d.settings.holdOn(input.asset.meter, now) !== undefined,
      nowMs: now,
    });
    if (decision.outcome === 'refuse') {
      this.d.audit.append({
        ...base,
        actor: actorName(input.proposedBy),
        action: 'refused',
        detail: `${input.capability}: ${decision.why} (reason given: ${input.reason})`,
      });
      return { created: false, why: decision.why, windowClosed: input.capability === 'disconnect' && decision.why === blackoutReason(this.d.policy, now) };
    }
    // A person's disconnect of a relay a more critical capability holds is refused at once, naming the holder;
    // the system's is recorded and fails at the relay (the prepaid loop proposes it again later).
    const claim = input.proposedBy.kind === 'user' && input.capability === 'disconnect' ? this.blockingClaim(input.asset.meter, 'open') : null;
    if (claim) {
      const why = claimSentence(input.asset.meter, claim, CAPABILITY, CAPABILITY_CLASS[CAPABILITY]);
      this.d.audit.append({
        ...base,
        actor: actorName(input.proposedBy),
        action: 'refused',
        detail: `${input.capability}: ${why} (reason given: ${input.reason})`,
      });
      return { created: false, why, windowClosed: false, outranked: claim };
    }
    // A restore makes every pending disconnect of the same meter moot.
    if (input.capability === 'reconnect') this.withdraw(input.asset.meter, 'disconnect', 'superseded by a reconnect');
    const duplicate = this.openProposal(input.asset.meter, input.capability);
    if (duplicate) return { created: true, proposal: duplicate, existing: true };
    const state: ProposalState = decision.outcome === 'execute' ? 'approved' : 'pending';
    const p = this.d.proposals.create(input, state, now, decision.why);
    this.d.audit.append({
      ...base,
      actor: actorName(input.proposedBy),
      action: 'proposed',
      proposalId: p.id,
      detail: `${input.capability}: ${input.reason}; ${decision.why}`,
    });
    if (state === 'pending') return { created: true, proposal: p };
    this.d.proposals.transition(p.id, ['approved'], 'approved', 'policy', now, decision.why); // records who decided
    return { created: true, proposal: await this.execute(p.id) };
  }

  /** An operator approves: the policy is checked again now, then the relay is switched. */
  async approve(id: number, username: string): Promise<Proposal> {
    const p = this.pending(id);
    const now = this.now();
    // Approving a disconnect a more critical capability stands against would only fail at the relay: refuse
    // it (409, naming the holder) and leave it pending. An approved reconnect waits for the claim instead.
    const claim = p.capability === 'disconnect' ? this.blockingClaim(p.asset.meter, 'open') : null;
    if (claim) {
      const why = claimSentence(p.asset.meter, claim, CAPABILITY, CAPABILITY_CLASS[CAPABILITY]);
      this.d.audit.append({
        ts: now,
        actor: username,
        action: 'approval-refused',
        proposalId: id,
        customer: p.asset.customer,
        meter: p.asset.meter,
        detail: why,
      });
      throw new GovernanceError('outranked', `proposal ${id} cannot be approved now: ${why}; it stays pending`);
    }
    const hold = this.d.settings.holdOn(p.asset.meter, now);
    const blocked = hold
      ? `an operator override by ${hold.by} keeps this relay closed`
      : p.capability === 'disconnect'
        ? blackoutReason(this.d.policy, now)
        : null;
    if (blocked) {
      this.d.audit.append({
        ts: now,
        actor: username,
        action: 'approval-refused',
        proposalId: id,
        customer: p.asset.customer,
        meter: p.asset.meter,
        detail: blocked,
      });
      throw new GovernanceError('refused', `proposal ${id} cannot be approved now: ${blocked}`);
    }
    if (!this.d.proposals.transition(id, ['pending'], 'approved', username, now, 'approved by an operator'))
      throw new GovernanceError('conflict', `proposal ${id} was decided meanwhile`);
    this.d.audit.append({
      ts: now,
      actor: username,
      action: 'approved',
      proposalId: id,
      customer: p.asset.customer,
      meter: p.asset.meter,
      detail: `${p.capability}: ${p.reason}`,
    });
    return this.execute(id);
  }

  reject(id: number, username: string, why: string): Proposal {
    const p = this.pending(id);
    const now = this.now();
    if (!this.d.proposals.transition(id, ['pending'], 'rejected', username, now, why))
      throw new GovernanceError('conflict', `proposal ${id} was decided meanwhile`);
    this.d.audit.append({ ts: now, actor: username, action: 'rejected', proposalId: id, customer: p.asset.customer, meter: p.asset.meter, detail: why });
    return this.d.proposals.require(id);
  }

  /** Pending proposals older than the policy's time to live expire; nobody decided them in time. */
  expireStale(): Proposal[] {
    const now = this.now();
    const stale = this.d.proposals.list({ state: 'pending' }).filter((p) => now - p.createdAt >= this.d.policy.proposalTtlMs);
    for (const p of stale) {
      if (this.d.proposals.transition(p.id, ['pending'], 'expired', 'system', now, 'not decided in time')) {
        this.d.audit.append({
          ts: now,
          actor: 'system',
          action: 'expired',
          proposalId: p.id,
          customer: p.asset.customer,
          meter: p.asset.meter,
          detail: `pending since ${new Date(p.createdAt).toISOString()}`,
        });
      }
    }
    return stale;
  }

  /** Pending proposals of a meter and capability that no longer make sense (e.g. the customer paid). */
  withdraw(meter: number, capability: Capability, why: string): Proposal[] {
    const now = this.now();
    const pending = this.d.proposals.list({ state: 'pending', meter, capability });
    for (const p of pending) {
      if (this.d.proposals.transition(p.id, ['pending'], 'withdrawn', 'system', now, why)) {
        this.d.audit.append({ ts: now, actor: 'system', action: 'withdrawn', proposalId: p.id, customer: p.asset.customer, meter, detail: why });
      }
    }
    return pending;
  }

  /** Human override: force a relay closed now, optionally keep it closed (hold), or release a hold. */
  async override(meter: number, customer: string | null, username: string, o: OverrideAction): Promise<{ done: boolean; detail: string; outranked?: boolean }> {
    const now = this.now();
    const base = { ts: now, actor: username, customer, meter };
    if (o.action === 'release') {
      const released = this.d.settings.release(meter);
      const detail = `release hold${released ? '' : ' (there was none)'}: ${o.reason}`;
      this.d.audit.append({ ...base, action: 'override', detail });
      return { done: true, detail };
    }
    if (o.action === 'hold') this.d.settings.hold({ meter, by: username, since: now, until: o.until ?? null, reason: o.reason });
    const until = o.action === 'hold' ? (o.until ? ` until ${new Date(o.until).toISOString()}` : ' until released') : '';
    this.d.audit.append({ ...base, action: 'override', detail: `${o.action}${until}: ${o.reason}` });
    this.withdraw(meter, 'disconnect', `operator override by ${username}`);
    return this.switchRelay('close', meter, customer, username, null);
  }

  /** Sets the site-wide level of supply-disconnect (both directions; `disconnect` is its old name). */
  setAutonomy(_capability: 'disconnect' | typeof CAPABILITY, level: AutonomyLevel, username: string): void {
    const before = this.autonomy();
    this.d.settings.setSiteLevel(this.d.site, level);
    this.d.audit.append({ ts: this.now(), actor: username, action: 'autonomy', detail: `${this.d.site} ${CAPABILITY}: ${before} -> ${level}` });
  }

  /** The configured level of supply-disconnect: the relay's own (site file), else the site's, else the seed's default (L3). */
  autonomy(meter?: number): AutonomyLevel {
    return (
      (meter === undefined ? undefined : this.d.assetLevel?.(relayAsset(meter))) ??
      this.d.settings.siteLevel(this.d.site) ??
      DEFAULT_ACTION_AUTONOMY[CAPABILITY]
    );
  }

  /** The level in force: an escalated L3 acts as L2 until a person confirms. */
  effectiveAutonomy(meter?: number): AutonomyLevel {
    return effectiveLevel({ level: this.autonomy(meter), escalation: this.escalation() });
  }

  escalation(): Escalation | null {
    return this.d.escalations?.get(CAPABILITY, SITE_ASSET) ?? null;
  }

  /** L3 hit a limit or its inputs are poor: drop to L2, audit, tell people (once per escalation). */
  escalate(why: string): void {
    const store = this.d.escalations;
    if (!store) return;
    const escalation = { sinceMs: this.now(), why };
    if (!store.raise(CAPABILITY, SITE_ASSET, escalation)) return;
    this.d.audit.append({
      ts: escalation.sinceMs,
      actor: 'system',
      action: 'escalated',
      detail: `${CAPABILITY} on ${this.d.site} dropped to L2 until a person confirms: ${why}`,
    });
    try {
      this.d.notify?.({ capability: CAPABILITY, asset: SITE_ASSET, escalation });
    } catch {
      /* a notification path that fails must not stop the gate; the audit entry and the state stand */
    }
  }

  /** A person confirms: supply-disconnect returns to L3. False when it was not escalated. */
  confirmEscalation(username: string): boolean {
    const r = confirmEscalation(this.escalation(), username, this.now());
    if (!r.audit) return false;
    this.d.escalations?.clear(CAPABILITY, SITE_ASSET);
    this.d.audit.append({ ...r.audit, detail: `${CAPABILITY} on ${this.d.site}: ${r.audit.detail}` });
    try {
      this.d.confirmed?.({ capability: CAPABILITY, asset: SITE_ASSET, by: username });
    } catch {
      /* as with notify: the confirmation stands even if clearing the alarm fails */
    }
    return true;
  }

  /** The claim of a more critical capability that stands against switching this relay to `want` now, or null. */
  blockingClaim(meter: number, want: 'open' | 'closed'): RelayClaim | null {
    return this.d.claims?.blocking(meter, want, CAPABILITY_CLASS[CAPABILITY], this.now()) ?? null;
  }

  /** Approved reconnects that waited for a safety claim on the relay; run now if the claim has ended. */
  async resumeDeferred(meter?: number): Promise<void> {
    const approved = this.d.proposals.list({ state: 'approved', capability: 'reconnect', ...(meter === undefined ? {} : { meter }) });
    for (const p of approved) if (!this.blockingClaim(p.asset.meter, 'closed')) await this.execute(p.id);
  }

  /** How long a pending proposal waits for a person. */
  get proposalTtlMs(): number {
    return this.d.policy.proposalTtlMs;
  }

  /** Why a disconnect may not happen now (night, weekend, holiday), or null inside the allowed window. */
  disconnectBlackout(): string | null {
    return blackoutReason(this.d.policy, this.now());
  }

  /** The open (pending, or approved and being executed) proposal of a meter and capability, if any. */
  openProposal(meter: number, capability: Capability): Proposal | undefined {
    return this.d.proposals.list({ state: 'pending', meter, capability })[0] ?? this.d.proposals.list({ state: 'approved', meter, capability })[0];
  }

  /**
   * Why a system disconnect of this customer would be refused whatever the time (an override hold,
   * L1 autonomy, a protected customer), or null. Re-proposing then would only fill the audit log.
   */
  standingRefusal(customer: string, meter: number): string | null {
    const d = decide(
      { capability: 'disconnect', asset: { customer, meter }, reason: '', proposedBy: { kind: 'system' } },
      {
        policy: { ...this.d.policy, noDisconnectWindows: [], noDisconnectWeekdays: [], holidays: [] },
        autonomy: this.effectiveAutonomy(meter),
        protectedCustomer: this.d.isProtected(customer),
        heldClosed: this.d.settings.holdOn(meter, this.now()) !== undefined,
        nowMs: this.now(),
      },
    );
    return d.outcome === 'refuse' ? d.why : null;
  }

  /** When the last disconnect proposal of a meter was rejected by an operator or failed at the relay, or null. */
  lastRejectedOrFailedDisconnectAt(meter: number): number | null {
    const all = this.d.proposals.list({ meter, capability: 'disconnect' });
    const last = all[all.length - 1];
    return last && (last.state === 'rejected' || last.state === 'failed') ? (last.decidedAt ?? last.createdAt) : null;
  }

  /** Whether the last switch of this meter's relay (a proposal or an operator override, as audited) opened it. */
  isDisconnected(meter: number): boolean {
    return this.d.audit.lastFor(meter, ['relay-opened', 'relay-closed'])?.action === 'relay-opened';
  }

  list(state?: ProposalState): Proposal[] {
    this.expireStale();
    return this.d.proposals.list({ state });
  }

  private pending(id: number): Proposal {
    this.expireStale();
    const p = this.d.proposals.get(id);
    if (!p) throw new GovernanceError('not_found', `proposal ${id} does not exist`);
    if (p.state !== 'pending') throw new GovernanceError('conflict', `proposal ${id} is ${p.state}, not pending`);
    return p;
  }

  private async execute(id: number): Promise<Proposal> {
    const p = this.d.proposals.require(id);
    // Who decided stays on the proposal (the approving operator, or 'policy'): executing is not deciding.
    const decider = p.decidedBy ?? 'system';
    const ok = await this.switchRelay(p.capability === 'disconnect' ? 'open' : 'close', p.asset.meter, p.asset.customer, 'system', id);
    // A reconnect outranked by safety stays approved and runs when the claim ends (resumeDeferred);
    // an outranked disconnect fails, and the prepaid loop proposes it again later if still due.
    if (ok.outranked && p.capability === 'reconnect') {
      // Say on the proposal why it has not run yet (once; the audit log has every attempt).
      if (!p.why?.includes('outranked'))
        this.d.proposals.transition(id, ['approved'], 'approved', decider, p.decidedAt ?? this.now(), p.why ? `${p.why}; ${ok.detail}` : ok.detail);
      return this.d.proposals.require(id);
    }
    const now = this.now();
    // The decision's why (an operator's approval, or the rule that ran it) stays in front of the relay's answer.
    this.d.proposals.transition(id, ['approved'], ok.done ? 'executed' : 'failed', decider, now, p.why ? `${p.why}; ${ok.detail}` : ok.detail);
    // L3 hit a limit (the relay's wear guard, a relay that does not answer): people decide from now on.
    if (!ok.done && !ok.outranked && decider === 'policy' && p.capability === 'disconnect') this.escalate(`limit hit: ${ok.detail}`);
    return this.d.proposals.require(id);
  }

  /** Switches and audits with the read-back; a failure is recorded, never assumed away. */
  private async switchRelay(
    to: 'open' | 'close',
    meter: number,
    customer: string | null,
    actor: string,
    proposalId: number | null,
  ): Promise<{ done: boolean; detail: string; outranked?: boolean }> {
    const base = { actor, proposalId, customer, meter };
    const claim = this.blockingClaim(meter, to === 'open' ? 'open' : 'closed');
    if (claim) {
      const detail = `${claimSentence(meter, claim, CAPABILITY, CAPABILITY_CLASS[CAPABILITY])}; nothing written${to === 'close' && proposalId !== null ? ', the close runs when it releases the relay' : ''}`;
      this.d.audit.append({ ...base, ts: this.now(), action: 'relay-outranked', detail });
      return { done: false, detail, outranked: true };
    }
    try {
      const r = to === 'open' ? await this.d.relays.open(meter) : await this.d.relays.close(meter);
      const detail = r.before === r.after ? `already ${r.after} (read back)` : `${r.before} -> ${r.after} (read back)`;
      this.d.audit.append({ ...base, ts: this.now(), action: to === 'open' ? 'relay-opened' : 'relay-closed', detail });
      return { done: true, detail };
    } catch (e) {
      // The wear guard's refusal (dwell, daily budget) is audited as such: nothing was written.
      const refused = e instanceof Error && e.name === 'RelayRefused';
      const detail = `relay ${to} ${refused ? 'refused' : 'failed'}: ${(e as Error).message}`;
      this.d.audit.append({ ...base, ts: this.now(), action: refused ? 'relay-refused' : 'relay-failed', detail });
      return { done: false, detail };
    }
  }
}
