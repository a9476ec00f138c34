import { performance } from 'node:perf_hooks';
import type { ChannelValue } from '../channels/value.js';
import type { ProcessImage } from '../channels/process-image.js';
import { capabilityOfTarget, decideAction, effectiveLevel, type ActionDecision, type ActionRequest, type AssetCapability } from '../governance/actions.js';
import type { Clock } from '../util/clock.js';
import { command, PHASES, type Battery, type ModeBattery } from './capabilities.js';
import { autonomyKey, E_STOP_CHANNEL, levelOf, neutralOf, type ControlPlan, type PlannedController } from './control-plan.js';
import type { ControlGovernanceState, ControlProposals } from './control-governance.js';
import type { ControllerHost } from './controller-host.js';
import type { RunResult } from './control-worker.js';
import { CycleTiming } from './cycle-timing.js';
import type { Decision, DecisionLog } from './decision-log.js';
import { planModes, MODE_PLAN_START, type ModePlanState } from './mode-plan.js';
import type { Bound, ControllerStatus, Proposal } from './proposal.js';
import { resolve, type Resolution, type VariableSpec } from './resolver.js';
import { enforce, envelope, type Envelope } from './safety-envelope.js';
import { snapshotOf, type Snapshot } from './snapshot.js';
import { balanceOf, stepSeen, type SiteBalance, type StepTriggerConfig } from './step-trigger.js';
import { whole } from '../util/text-number.js';
import { heldBack } from './held-back.js';

/**
 * The edge cycle (issue 10 item 1): every `periodMs`, one consistent snapshot of all channels, then
 * controllers (in the control worker, within a time budget) -> safety envelope -> resolver (envelope
 * bounds with the proposals) -> SRNE mode planning -> governance per command (L1 recommend, L2 propose,
 * L3 actuate and escalate; overrides; approvals) -> the envelope's last clamp -> dispatch queues
 * (never awaited) -> decision log and audit (batched).
 *
 * Failures are explicit: a controller that throws or runs past its budget is `failed` with the reason
 * and its assets get safety bounds holding them in their safe state; past its budget, its worker is
 * terminated, and three cycles in a row past it stop the controller until an operator switches modes.
 *
 * The cycle starts on the clock's period boundaries, offset by the time the control buses take to poll
 * (they poll on the same boundaries), so each snapshot holds readings a few ms old. With the control
 * devices read faster than the period (`control.pollMs`) and a step trigger, a load or PV step in a fresh
 * reading starts the cycle at once (step-trigger.ts), at least `minSpacingMs` after the last start; the
 * next periodic slot then follows on the clock's grid (skipped when within half a period).
 */
export interface ControllerView {
  readonly id: string;
  readonly kind: string;
  readonly criticality: string;
  readonly assets: readonly string[];
  readonly status: ControllerStatus;
  /** Stopped for running past its budget: not run again until the mode is set again. */
  readonly stopped: boolean;
  readonly lastMs: number | null;
}

export interface Dispatcher {
  /** Queues a command (never awaited). Returns false when no device takes this target. */
  send(target: string, value: number): boolean;
}

export interface CycleDeps {
  readonly image: ProcessImage;
  readonly clock: Clock;
  readonly host: ControllerHost;
  readonly dispatcher: Dispatcher;
  readonly log: DecisionLog;
  readonly gov: ControlGovernanceState;
  readonly proposals: ControlProposals;
  readonly periodMs: number;
  readonly budgetMs: number;
  readonly proposalTtlMs: number;
  /** The emergency-stop input and the value that means pressed. */
  readonly eStop?: { readonly channel: string; readonly pressedValue: number };
  readonly alarm?: (
    a: { rule: string; subject: string; message: string; severity: 'critical' | 'major' | 'minor' | 'info' } | { clear: string; subject: string },
  ) => void;
  /** An L3 capability escalated to L2 (besides the alarm): people are told by SMS. */
  readonly onEscalation?: (e: { capability: string; asset: string; sinceMs: number; why: string }) => void;
  /** Components whose channels the controllers may read (devices, sub-components, assets). */
  readonly components: ReadonlySet<string>;
  /**
   * How long after each period boundary of the clock the readings of the control devices are in (ms):
   * their buses poll on those boundaries, so a cycle started then acts on readings a few ms old instead of
   * up to a period old. Bounded to half a period; none means the cycle starts on the boundaries.
   */
  readonly readingsInMs?: () => number | undefined;
  /** Tells the cycle each time a control bus has finished a poll (fresh readings in the image); returns the unsubscribe. */
  readonly onReadings?: (listener: () => void) => () => void;
  /** Start the cycle early on a step in a fresh reading (step-trigger.ts); none: only on the period's slots. */
  readonly stepTrigger?: StepTriggerConfig;
  /** A reading older than this is not used to judge a step (ms). */
  readonly maxAgeMs?: number;
}

/** Cycles in a row past the budget before a controller is stopped (until the next mode change). */
const STOP_AFTER_LATE_CYCLES = 3;

/** Consecutive cycles of poor inputs on an asset before its L3 capability escalates to L2. */
const ESCALATE_AFTER_POOR_CYCLES = 3;

/** Margin after the control buses' last poll cycle, for the readings to reach the process image. */
const READINGS_MARGIN_MS = 20;

const SAFE_SOURCE = 'controller-failure';

export class EdgeCycle {
  private plan: ControlPlan;
  private readonly states = new Map<string, unknown>();
  private readonly statuses = new Map<string, ControllerStatus>();
  private readonly lastMs = new Map<string, number>();
  private readonly stopped = new Map<string, string>();
  /** Controllers that ran past the budget, with the number of cycles in a row. */
  private readonly late = new Map<string, number>();
  private readonly lastProposals = new Map<string, readonly Proposal[]>();
  private modeStates = new Map<string, ModePlanState>();
  private lastDispatched: Record<string, number> = {};
  /** What offsets (frequency droop) added to each dispatched command last cycle, shown to the controllers. */
  private lastOffsets = new Map<string, number>();
  private lastCycleAt: number | null = null;
  readonly timing = new CycleTiming();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inCycle: Promise<void> | null = null;
  private seq = 0;
  private scheduled = 0;
  /** performance.now() of the last start; -Infinity before the first. */
  private lastStart = Number.NEGATIVE_INFINITY;
  /** Grid and grid + battery as the last cycle saw them: a step is judged against these. */
  private lastBalance: SiteBalance | undefined;
  private unsubscribe: (() => void) | null = null;
  /** Assets whose inputs are poor, with the number of consecutive cycles they have been. */
  private readonly poorCycles = new Map<string, number>();
  lastEnvelope: Envelope | null = null;
  lastResolutions: ReadonlyMap<string, Resolution> = new Map();
  lastModes = new Map<string, string>();
  /** Targets that were actuated last cycle (for the API). */
  lastActuated = new Map<string, { value: number; authority: string }>();

  constructor(
    plan: ControlPlan,
    private readonly d: CycleDeps,
  ) {
    this.plan = plan;
  }

  get controlPlan(): ControlPlan {
    return this.plan;
  }

  /** Replaces the controllers (a mode change); states of kept controllers carry over; stopped ones may run again. */
  setPlan(plan: ControlPlan): void {
    const keep = new Set(plan.controllers.map((c) => `${c.id}|${c.kind}`));
    for (const c of this.plan.controllers) {
      if (keep.has(`${c.id}|${c.kind}`)) continue;
      this.states.delete(c.id);
      this.statuses.delete(c.id);
    }
    this.stopped.clear();
    this.late.clear();
    this.plan = plan;
  }

  controllers(): ControllerView[] {
    return this.plan.controllers.map((c) => ({
      id: c.id,
      kind: c.kind,
      criticality: c.criticality,
      assets: c.assets,
      status: this.stopped.has(c.id)
        ? { state: 'failed', reason: this.stopped.get(c.id) ?? '' }
        : (this.statuses.get(c.id) ?? { state: 'idle', reason: 'not run yet' }),
      stopped: this.stopped.has(c.id),
      lastMs: this.lastMs.get(c.id) ?? null,
    }));
  }

  start(): void {
    this.running = true;
    this.d.host.warm();
    if (this.d.stepTrigger && this.d.onReadings) this.unsubscribe = this.d.onReadings(() => this.onReadings());
    this.arm();
  }

  /** Time to the next start: the clock's next period boundary plus the time the control readings take to come in. */
  private untilNextSlot(): number {
    const period = this.d.periodMs;
    const raw = this.d.readingsInMs?.();
    const offset = raw === undefined || !Number.isFinite(raw) ? 0 : Math.min(period / 2, Math.max(0, raw + READINGS_MARGIN_MS));
    const intoPeriod = (((this.d.clock() - offset) % period) + period) % period;
    return period - intoPeriod;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    await this.inCycle;
  }

  private arm(): void {
    if (!this.running) return;
    let wait = this.untilNextSlot();
    // When the readings' offset grows, or a step started the last cycle early, the next slot may come right
    // after the last start: take the one after.
    if (performance.now() + wait - this.lastStart < this.d.periodMs / 2) wait += this.d.periodMs;
    this.scheduled = performance.now() + wait;
    this.timer = setTimeout(() => this.launch(false), wait);
  }

  private launch(early: boolean): void {
    this.timer = null;
    const start = performance.now();
    // An early cycle's scheduled start is the reading that showed the step: its jitter is the trigger's latency.
    const jitter = start - this.scheduled;
    this.lastStart = start;
    this.inCycle = this.runCycle(start, jitter)
      .catch(() => undefined)
      .finally(() => {
        this.inCycle = null;
        const end = performance.now();
        // The next slot is the next one on the clock's grid: a slot already missed is an overrun, never
        // bunched up.
        this.timing.add(end - start, jitter, end > this.scheduled + this.d.periodMs, early);
        this.arm();
      });
  }

  /** A control bus finished a poll: a step in its readings starts the cycle now, never sooner than minSpacingMs after the last. */
  private onReadings(): void {
    const t = this.d.stepTrigger;
    if (!t || !this.running || this.inCycle || !this.timer) return;
    const now = performance.now();
    if (now - this.lastStart < t.minSpacingMs || this.scheduled - now <= READINGS_MARGIN_MS) return;
    if (stepSeen(this.lastBalance, this.balanceNow(this.d.clock()), t.thresholdW) === 0) return;
    clearTimeout(this.timer);
    this.scheduled = now;
    this.launch(true);
  }

  /** Grid and grid + battery from the process image now (only the components the trigger reads). */
  private balanceNow(nowMs: number): SiteBalance | undefined {
    const caps = this.plan.caps;
    if (!caps.grid) return undefined;
    const entries: Array<[string, ChannelValue]> = [];
    for (const comp of [caps.grid.component, ...caps.batteries.map((b) => b.component)])
      for (const [ch, v] of Object.entries(this.d.image.component(comp))) entries.push([`${comp}/${ch}`, v]);
    return balanceOf(snapshotOf(nowMs, entries), caps.grid, caps.batteries, nowMs, this.d.maxAgeMs ?? 3 * this.d.periodMs);
  }

  /** The consistent picture of every channel at the start of the cycle. */
  takeSnapshot(nowMs: number): Snapshot {
    const entries: Array<[string, ChannelValue]> = [];
    for (const comp of this.d.image.componentNames()) for (const [ch, v] of Object.entries(this.d.image.component(comp))) entries.push([`${comp}/${ch}`, v]);
    if (this.d.eStop) {
      const [comp = '', ch = ''] = this.d.eStop.channel.split('/');
      const v = this.d.image.get(comp, ch);
      if (v) entries.push([E_STOP_CHANNEL, { value: v.value === null ? null : v.value === this.d.eStop.pressedValue ? 1 : 0, ts: v.ts, quality: v.quality }]);
    }
    for (const [target, w] of this.lastOffsets) entries.push([command.appliedOffset(target), { value: w, ts: nowMs, quality: 'GOOD' }]);
    for (const [target, w] of Object.entries(this.lastDispatched)) entries.push([command.commanded(target), { value: w, ts: nowMs, quality: 'GOOD' }]);
    return snapshotOf(nowMs, entries);
  }

  /** One cycle (the timer calls it; tests may too). */
  async runCycle(startPerf = performance.now(), jitterMs = 0): Promise<void> {
    const nowMs = this.d.clock();
    const cycle = ++this.seq;
    const s = this.takeSnapshot(nowMs);
    this.lastBalance = balanceOf(s, this.plan.caps.grid, this.plan.caps.batteries, nowMs, this.d.maxAgeMs ?? 3 * this.d.periodMs);
    const dtMs = this.lastCycleAt === null ? this.d.periodMs : nowMs - this.lastCycleAt;
    this.lastCycleAt = nowMs;
    const plan = this.plan;

    // 1. Controllers, in the worker, within the budget.
    const active = plan.controllers.filter((c) => !this.stopped.has(c.id));
    const forWorker = [...s.channels].filter(([k]) => this.d.components.has(k.slice(0, k.indexOf('/'))));
    const outcome = active.length
      ? await this.d.host.run(
          nowMs,
          s.takenAt,
          forWorker,
          active.map((c) => ({ id: c.id, kind: c.kind, config: c.config, state: this.states.has(c.id) ? this.states.get(c.id) : c.start })),
        )
      : { kind: 'done' as const, results: [] };
    const results = new Map<string, RunResult>();
    const safeBecause = new Map<string, string>();
    if (outcome.kind === 'done') for (const r of outcome.results) results.set(r.id, r);
    else if (outcome.kind === 'hung') {
      // A loop that never ends is late every cycle; a busy CPU makes a controller late once. Stopped only when late
      // cycles in a row: its assets are in the safe state for each late cycle either way.
      const late = (this.late.get(outcome.id) ?? 0) + 1;
      this.late.set(outcome.id, late);
      const ms = Math.round(outcome.afterMs);
      if (late >= STOP_AFTER_LATE_CYCLES) {
        const why = `ran past its ${this.d.budgetMs} ms budget ${late} cycles in a row (stopped after ${ms} ms); its assets are in their safe state`;
        this.stopped.set(outcome.id, why);
        this.d.log.note({ ts: nowMs, actor: 'system', action: 'controller-stopped', detail: `${outcome.id} ${why}` });
        this.d.alarm?.({ rule: 'controller_failed', subject: `controller:${outcome.id}`, severity: 'major', message: `controller ${outcome.id} ${why}` });
      } else {
        const why = `ran past its ${this.d.budgetMs} ms budget this cycle (${ms} ms; stopped at ${STOP_AFTER_LATE_CYCLES} in a row); its assets are in their safe state this cycle`;
        this.statuses.set(outcome.id, { state: 'failed', reason: why });
        for (const a of plan.controllers.find((c) => c.id === outcome.id)?.assets ?? []) safeBecause.set(a, `${outcome.id} ${why}`);
      }
    }
    for (const c of active) {
      const r = results.get(c.id);
      if (r) {
        this.late.delete(c.id);
        this.states.set(c.id, r.state);
        this.statuses.set(c.id, r.status);
        this.lastMs.set(c.id, Math.round(r.ms * 1000) / 1000);
        this.lastProposals.set(c.id, r.proposals);
        if (r.status.state === 'failed' && r.status.reason.startsWith('threw:')) for (const a of c.assets) safeBecause.set(a, `${c.id} ${r.status.reason}`);
      } else if (!this.stopped.has(c.id) && !(outcome.kind === 'hung' && outcome.id === c.id)) {
        // Its answer was lost with a stopped worker, or the worker is starting: last proposals held one cycle.
        const why = outcome.kind === 'not-ready' ? outcome.why : 'answer lost when the worker was stopped; last proposals held';
        this.statuses.set(c.id, { state: 'failed', reason: why });
      }
    }
    for (const [id, why] of this.stopped) for (const a of plan.controllers.find((c) => c.id === id)?.assets ?? []) safeBecause.set(a, `${id} ${why}`);

    // 2. Safety envelope and the resolver.
    const env = envelope(s, plan.safety, this.lastDispatched, dtMs, nowMs);
    this.lastEnvelope = env;
    const proposals: Proposal[] = [...env.bounds];
    for (const c of active) {
      const r = results.get(c.id);
      if (r) proposals.push(...r.proposals);
      else if (outcome.kind !== 'done' && !this.stopped.has(c.id)) proposals.push(...(this.lastProposals.get(c.id) ?? []));
    }
    proposals.push(...this.safeBounds(safeBecause));
    const specs: Record<string, VariableSpec> = {};
    const measured = (addr: string): number | undefined => {
      const v = s.channels.get(addr);
      return v && v.quality === 'GOOD' && v.value !== null ? v.value : undefined;
    };
    for (const p of proposals) specs[p.target] ??= { neutral: neutralOf(plan.caps, p.target, measured) };
    for (const o of this.d.gov.overrides.values()) specs[o.target] ??= { neutral: neutralOf(plan.caps, o.target, measured) };
    const resolutions = new Map(resolve(proposals, specs));
    for (const o of this.d.gov.overrides.values())
      if (!resolutions.has(o.target))
        resolutions.set(o.target, {
          target: o.target,
          value: specs[o.target]?.neutral ?? 0,
          interval: { min: -Infinity, max: Infinity },
          chosenBy: null,
          boundBy: [],
          overruled: [],
          offset: 0,
        });
    this.lastResolutions = resolutions;
    for (const c of active) {
      const st = this.statuses.get(c.id);
      if (st?.state !== 'ok' || !results.has(c.id)) continue;
      const held = heldBack(c.id, proposals, resolutions);
      if (held.length) this.statuses.set(c.id, { ...st, detail: `${st.detail}; ${held.join('; ')}` });
    }

    // 3. Governance per command.
    const envOf = (target: string): { min: number; max: number } => {
      const { min, max } = intersect([...env.bounds, ...proposals.filter((b) => b.kind === 'bound' && b.source === SAFE_SOURCE)], target);
      return min > max ? { min: max, max } : { min, max };
    };
    const safeOf = new Map(env.safe.map((x) => [x.component, x.why]));
    for (const [a, why] of safeBecause) safeOf.set(a, why);
    for (const a of [...this.poorCycles.keys()]) if (!safeOf.has(a)) this.poorCycles.delete(a);
    for (const a of safeOf.keys()) this.poorCycles.set(a, (this.poorCycles.get(a) ?? 0) + 1);
    const failedOf = (asset: string): string | null => {
      for (const c of active) {
        const st = this.statuses.get(c.id);
        if (c.assets.includes(asset) && st?.state === 'failed' && results.has(c.id) && /cannot be absorbed|exports/.test(st.reason))
          return `${c.id}: ${st.reason}`;
      }
      return null;
    };
    // The utility's bounds per command: they lessen a person's override or approval of a power (a battery, PV,
    // an EV charger), never a relay: a person keeps a clinic's supply closed whatever the import limit.
    const utilityIds = new Set(active.filter((c) => c.kind === 'utility-limits').map((c) => c.id));
    const obligationOf = (target: string, capability: AssetCapability): ActionRequest['obligation'] => {
      if (capability !== 'battery-dispatch' && capability !== 'pv-curtailment' && capability !== 'ev-charging') return undefined;
      const mine = proposals.filter((p) => p.kind === 'bound' && p.target === target && utilityIds.has(p.source));
      return mine.length ? { ...intersect(mine, target), why: mine.map((p) => p.why).join('; ') } : undefined;
    };
    const values = new Map<string, number>();
    const decisions: Decision[] = [];
    const actuated = new Map<string, { value: number; authority: string }>();
    const decide = (target: string, r: Resolution, asset: string, capability: AssetCapability): ActionDecision => {
      const key = autonomyKey(capability, asset);
      const level = levelOf(plan, capability, asset);
      const escalation = this.d.gov.escalations.get(key) ?? null;
      const override = this.d.gov.overrides.get(target) ?? null;
      const approval = this.d.gov.approvals.get(target) ?? null;
      const e = envOf(target);
      const inputsPoor = safeOf.get(asset) ?? null;
      const why = r.chosenBy
        ? `${r.chosenBy.source}: ${r.chosenBy.why}`
        : `no target: neutral value${r.boundBy.length ? `, bound by ${r.boundBy.map((b) => b.source).join(', ')}` : ''}`;
      const obligation = override || approval ? obligationOf(target, capability) : undefined;
      let dec = decideAction(
        { asset, capability, target, value: r.value, envelope: e, limitHit: failedOf(asset), inputsPoor, why, ...(obligation ? { obligation } : {}) },
        { level, escalation, override, approval, proposalTtlMs: this.d.proposalTtlMs, nowMs },
      );
      // The safe state is the envelope, not an action: it is written at L2 and L3 (escalated) too. L1 never writes.
      if (dec.outcome === 'propose' && inputsPoor && (level === 'L3' || level === 'L2')) {
        const v = Math.min(e.max, Math.max(e.min, r.value));
        dec = {
          outcome: 'actuate',
          value: v,
          authority: 'L3-policy',
          by: 'safety-envelope',
          why: `safe state: ${inputsPoor}`,
          audit: { ts: nowMs, actor: 'system', action: 'safe-state', detail: `${target} = ${whole(v)} (${inputsPoor})` },
          escalate: null,
        };
      }
      // Poor inputs put the asset in its safe state at once, but escalate only when they last: the cycles before
      // the first readings after a start, or one missed read, are not a reason to call a person.
      const lasting = !inputsPoor || (this.poorCycles.get(asset) ?? 0) >= ESCALATE_AFTER_POOR_CYCLES;
      if (dec.escalate && lasting && !escalation && effectiveLevel({ level, escalation }) === 'L3') {
        this.d.gov.escalations.set(key, dec.escalate);
        this.d.log.note({
          ts: nowMs,
          actor: 'system',
          action: 'escalated',
          detail: `${capability} on ${asset} dropped to L2 until a person confirms: ${dec.escalate.why}`,
        });
        this.d.alarm?.({
          rule: 'control_escalation',
          subject: `${capability}:${asset}`,
          severity: 'major',
          message: `${capability} on ${asset} needs a person: ${dec.escalate.why}; it acts as L2 (proposals) until confirmed`,
        });
        this.d.onEscalation?.({ capability, asset, ...dec.escalate });
      }
      return dec;
    };
    const apply = (target: string, r: Resolution, dec: ActionDecision, asset: string, capability: AssetCapability, send: boolean): void => {
      if (dec.outcome === 'actuate') {
        if (send) values.set(target, dec.value);
        actuated.set(target, { value: dec.value, authority: dec.authority });
        this.d.log.actuation(target, dec.value, dec.authority, dec.by, dec.audit);
      } else if (dec.outcome === 'recommend') this.d.gov.recommend({ target, asset, capability, value: dec.value, why: dec.why, at: nowMs });
      else {
        const pending = this.d.proposals.pendingFor(target);
        if (pending) this.d.proposals.refresh(pending.id, dec.value, dec.why);
        else {
          const p = this.d.proposals.create({ createdAt: nowMs, expiresAt: dec.expiresAtMs, asset, capability, target, value: dec.value, why: dec.why });
          this.d.log.note({
            ts: nowMs,
            actor: 'system',
            action: 'proposed',
            detail: `proposal ${p.id}: ${target} = ${whole(dec.value)} until ${new Date(p.expiresAt).toISOString()} (${dec.why})`,
          });
        }
      }
      decisions.push({
        target,
        value: dec.value,
        outcome: dec.outcome,
        authority: dec.outcome === 'actuate' ? dec.authority : null,
        by: dec.outcome === 'actuate' ? dec.by : null,
        why: dec.why,
        chosenBy: r.chosenBy?.source ?? null,
        boundBy: r.boundBy.map((b) => `${b.source} (${b.criticality}): ${b.why}`),
        overruled: r.overruled.map((o) => `${o.source}: ${o.by}`),
        offset: r.offset,
      });
    };

    const modeBatteries = new Map(plan.caps.batteries.filter((b): b is ModeBattery => b.kind === 'battery-modes').map((b) => [command.batteryPower(b), b]));
    const perPhaseTotals = new Set(plan.caps.batteries.filter((b) => b.kind === 'battery-setpoint' && b.perPhase).map((b) => command.batteryPower(b)));
    const gens = new Set(plan.caps.generators.map((g) => command.generatorRun(g)));
    const relayRole = new Map(plan.caps.relays.map((r) => [command.relayClosed(r), r.role]));
    const modes = new Map<string, string>();
    for (const [target, r] of resolutions) {
      if (perPhaseTotals.has(target)) continue; // a per-phase battery takes its phases' setpoints
      const asset = target.slice(0, target.indexOf('/'));
      const capability = capabilityOfTarget(target, relayRole.get(target));
      if (!capability) continue;
      // A generator only when someone asked for it (its envelope bound alone is no request).
      if (gens.has(target) && !proposals.some((p) => p.target === target && p.source !== 'safety-envelope') && !this.d.gov.overrides.has(target)) continue;
      const mb = modeBatteries.get(target);
      const dec = decide(target, r, asset, capability);
      if (mb) {
        // The decided power intent becomes modes and caps (EEPROM: held by the dwell, written on change).
        apply(target, r, dec, asset, capability, false);
        if (dec.outcome === 'actuate') {
          const plan2 = planModes(dec.value, mb, this.modeStates.get(mb.component) ?? MODE_PLAN_START, nowMs);
          this.modeStates.set(mb.component, plan2.state);
          modes.set(mb.component, `${plan2.mode}${plan2.held ? ` (${plan2.held})` : ''}`);
          for (const [k, v] of Object.entries(plan2.settings)) values.set(k, v);
        }
        continue;
      }
      apply(target, r, dec, asset, capability, true);
      if (target.includes('/SetActivePower'))
        modes.set(asset, dec.outcome === 'actuate' ? (Math.abs(dec.value) < 1 ? 'idle' : dec.value > 0 ? 'discharge' : 'charge') : dec.outcome);
    }
    if (env.eStop) for (const g of plan.caps.generators) values.set(command.generatorRun(g), 0);
    this.lastModes = modes;

    // 4. The envelope's last clamp, then dispatch (queued, never awaited).
    const enforced = enforce(values, env);
    for (const [target, e] of enforced) {
      if (e.clampedFrom !== undefined)
        this.d.log.note({
          ts: nowMs,
          actor: 'system',
          action: 'clamped',
          detail: `${target}: ${whole(e.clampedFrom)} limited to ${whole(e.value)} by safety (${e.why ?? ''})`,
        });
      this.d.dispatcher.send(target, e.value);
      this.lastDispatched[target] = e.value;
    }
    const offsets = new Map<string, number>();
    for (const [target, r] of resolutions) {
      const e = enforced.get(target);
      if (r.offset !== 0 && e) offsets.set(target, e.value - (r.value - r.offset));
    }
    this.lastOffsets = offsets;
    this.lastActuated = actuated;

    // 5. Alarms for assets held safe (lost communication, stale inputs), cleared when they recover.
    for (const c of [...plan.caps.batteries, ...plan.caps.pv]) {
      const why = safeOf.get(c.component);
      if (why)
        this.d.alarm?.({
          rule: 'control_safe_state',
          subject: `asset:${c.component}`,
          severity: 'major',
          message: `${c.component} held in its safe state: ${why}`,
        });
      else this.d.alarm?.({ clear: 'control_safe_state', subject: `asset:${c.component}` });
    }

    // 6. Governance housekeeping and the record.
    for (const o of this.d.gov.expire(nowMs))
      this.d.log.note({
        ts: nowMs,
        actor: o.by,
        action: 'override-ended',
        detail: `override ${o.id} of ${o.asset} (${o.target} = ${whole(o.value)}) ended: ${o.reason}`,
      });
    for (const p of this.d.proposals.expired(nowMs))
      if (this.d.proposals.transition(p.id, 'expired', 'system', nowMs, 'nobody approved it in time'))
        this.d.log.note({ ts: nowMs, actor: 'system', action: 'expired', detail: `proposal ${p.id}: ${p.target} = ${whole(p.value)} expired unapproved` });
    this.d.log.record({ cycle, at: nowMs, durationMs: performance.now() - startPerf, jitterMs, decisions });
    this.d.log.flush(nowMs);
  }

  /** Safety bounds that hold the assets of a failed controller in their safe state. */
  private safeBounds(assets: ReadonlyMap<string, string>): Bound[] {
    const out: Bound[] = [];
    const caps = this.plan.caps;
    for (const [asset, why] of assets) {
      const b: Battery | undefined = caps.batteries.find((x) => x.component === asset);
      if (b)
        for (const p of [undefined, ...(b.kind === 'battery-setpoint' && b.perPhase ? PHASES : [])])
          out.push({
            kind: 'bound',
            target: command.batteryPower(b, p),
            min: 0,
            max: 0,
            criticality: 'safety',
            source: SAFE_SOURCE,
            why: `${why}: battery idle`,
          });
      const ev = caps.evChargers.find((x) => x.component === asset);
      if (ev)
        out.push({ kind: 'bound', target: command.evLimit(ev), min: 0, max: 0, criticality: 'safety', source: SAFE_SOURCE, why: `${why}: EV charging paused` });
      const pv = caps.pv.find((x) => x.component === asset);
      const limit = this.plan.safety.exportLimitW;
      if (pv && limit !== null)
        out.push({
          kind: 'bound',
          target: command.pvLimit(pv),
          min: 0,
          max: limit,
          criticality: 'safety',
          source: SAFE_SOURCE,
          why: `${why}: PV held to the export limit`,
        });
    }
    return out;
  }

  /** For the API: is the controller known? */
  has(id: string): PlannedController | undefined {
    return this.plan.controllers.find((c) => c.id === id);
  }
}

/** The interval the bounds on `target` among `ps` leave open (either side may stay infinite). */
function intersect(ps: readonly Proposal[], target: string): { min: number; max: number } {
  let min = -Infinity;
  let max = Infinity;
  for (const b of ps)
    if (b.kind === 'bound' && b.target === target) {
      min = Math.max(min, b.min ?? -Infinity);
      max = Math.min(max, b.max ?? Infinity);
    }
  return { min, max };
}
