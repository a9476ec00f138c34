import type Database from 'better-sqlite3';
import type { AlarmStore } from '../alarms/alarm-store.js';
import { confirmEscalation, DEFAULT_ACTION_AUTONOMY, type AssetCapability } from '../governance/actions.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { RelayClaims } from '../governance/relay-claims.js';
import type { RelayBank } from '../relays/relay-bank.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { Clock } from '../util/clock.js';
import { command, PHASES } from './capabilities.js';
import { controllerConfigSchema, type ControlConfig, type ControllerConfig } from './control-config.js';
import { ControlGovernanceState, ControlProposals, type ControlProposal } from './control-governance.js';
import { autonomyKey, levelOf, planControl, type ControlPlan, type ExtraController } from './control-plan.js';
import { ControllerHost } from './controller-host.js';
import { EdgeCycle, type Dispatcher } from './cycle.js';
import { DecisionLog } from './decision-log.js';
import { DispatchQueue, modbusWriter, relayWriter, ShedLedger, type DispatchState } from './dispatch.js';
import { EvLimitQueue, type EvChargerPort } from './ev-dispatch.js';
import type { Criticality } from './proposal.js';
import { whole } from '../util/text-number.js';
import { describeValidation, sentenceErrorMap } from '../api/validation-errors.js';

/**
 * Composition of the edge cycle for a running site: plan from the site file, control worker, one
 * dispatch queue per device, decision log, governance state, and the operations the API offers
 * (mode, approvals, overrides, escalations). Everything a person does is audited.
 */
export interface ControlTestHooks {
  /** Modules (file URLs) the control worker imports, exporting `controllers: Record<kind, ControllerKindDef>`. */
  readonly modules: readonly string[];
  readonly controllers: readonly ExtraController[];
  readonly kinds?: ReadonlyMap<string, Criticality>;
}

export interface ControlDeps {
  readonly config: ControlConfig;
  readonly timeZone: string;
  readonly site: SiteRuntime;
  readonly db: Database.Database;
  readonly audit: AuditLog;
  readonly alarms?: Pick<AlarmStore, 'raise' | 'clear'>;
  readonly relays?: RelayBank;
  readonly clock: Clock;
  readonly hooks?: ControlTestHooks;
  /** Relays held above business, shared with the disconnect gate: shedding and relay overrides claim here. */
  readonly claims?: RelayClaims;
  /** Whether billing has this meter's relay open (a disconnect): the shed restore then leaves it open. */
  readonly businessOpen?: (meter: number) => boolean;
  /** An L3 capability escalated: people are told beyond the alarm (SMS). */
  readonly onEscalation?: (e: { capability: string; asset: string; sinceMs: number; why: string }) => void;
  /** The OCPP central system (or any charger port): where EV charging limits go (ev-dispatch.ts). */
  readonly evChargers?: EvChargerPort;
}

export class ControlError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

export class ControlRuntime {
  readonly cycle: EdgeCycle;
  readonly gov = new ControlGovernanceState();
  readonly proposals: ControlProposals;
  readonly log: DecisionLog;
  readonly queues = new Map<string, DispatchQueue>();
  /** One limit queue per EV charger asset (SetChargingProfile through the central system). */
  readonly evQueues = new Map<string, EvLimitQueue>();
  private readonly host: ControllerHost;
  private controllerConfigs: ControllerConfig[];
  /** Command target -> the queue and the device channel that takes it. */
  private readonly routes = new Map<string, { queue: DispatchQueue; channel: string }>();
  private readonly openAlarms = new Set<string>();

  constructor(private readonly d: ControlDeps) {
    this.controllerConfigs = [...d.config.controllers];
    const planned = this.planFor(this.controllerConfigs);
    this.proposals = new ControlProposals(d.db);
    this.log = new DecisionLog(d.db, d.audit, { tolerance: (t) => (/Priority|Current|SetClosed|SetRunning/.test(t) ? 0 : 50) });
    this.host = new ControllerHost(d.hooks?.modules ?? [], d.config.budgetMs);
    const onError = (device: string) => (channel: string, value: number, err: Error) =>
      this.raise({
        rule: 'control_dispatch',
        subject: `device:${device}`,
        severity: 'major',
        message: `${device}: writing ${channel} = ${value} failed: ${err.message}`,
      });
    const onWritten = (device: string) => () => this.clearAlarm('control_dispatch', `device:${device}`);
    // `utility`: the limits the 2030.5 client writes (src/csip/utility-channels.ts).
    const components = new Set<string>(['estop', 'utility']);
    for (const dev of d.site.control.devices) {
      const bus = d.site.bus(dev.bus);
      if (!bus) continue;
      const queue = new DispatchQueue(
        dev.component,
        modbusWriter(d.db, bus, dev, {
          clock: d.clock,
          timeZone: d.timeZone,
          onBudgetExceeded: (device, day, budget) =>
            this.raise({
              rule: 'control_eeprom_budget',
              subject: `device:${device}`,
              severity: 'major',
              message: `${device}: the ${budget} EEPROM writes of ${day} are spent; its settings are read-only until tomorrow`,
            }),
        }),
        d.clock,
        { tolerance: (ch) => (/Power/.test(ch) ? 10 : 0), onError: onError(dev.component), onWritten: onWritten(dev.component) },
      );
      this.queues.set(dev.component, queue);
      for (const [kind, comp] of dev.components) {
        components.add(comp);
        const prefix = kind ? `${kind}/` : '';
        for (const p of dev.profile.groups.flatMap((g) => g.points)) {
          if (!p.writable || (p.component ?? '') !== kind) continue;
          const channel = p.channel === 'Running' ? 'SetRunning' : p.channel;
          this.routes.set(`${comp}/${channel}`, { queue, channel: `${prefix}${p.channel}` });
        }
      }
    }
    // SunSpec inverters: a PV limit in W becomes 123/704 with a revert time of a few periods, written
    // again well before it reverts; a read-back that differs is a dispatch failure (alarmed).
    const sunspec = d.site.sunspec;
    for (const comp of sunspec.components()) components.add(comp);
    for (const comp of sunspec.components()) {
      const dev = sunspec.device(comp);
      if (!dev) continue;
      const revertMs = dev.revertPeriods * d.config.periodMs;
      const queue = new DispatchQueue(
        comp,
        {
          write: async (channel, value) => {
            if (channel !== 'ActivePowerLimit') throw new Error(`${comp} takes ActivePowerLimit only, not ${channel}`);
            const back = await sunspec.setLimitW(comp, value);
            if (!back.ok) throw new Error(`read back differs (${back.mismatch.join('; ')})`);
          },
        },
        d.clock,
        { reassertMs: Math.max(d.config.periodMs, Math.floor(revertMs / 2)), tolerance: () => 10, onError: onError(comp), onWritten: onWritten(comp) },
      );
      this.queues.set(comp, queue);
      this.routes.set(`${comp}/ActivePowerLimit`, { queue, channel: 'ActivePowerLimit' });
    }
    for (const a of planned.caps.relays) components.add(a.component);
    for (const a of [...planned.caps.batteries, ...planned.caps.pv, ...planned.caps.generators]) components.add(a.component);
    if (planned.caps.grid) components.add(planned.caps.grid.component);
    for (const ev of planned.caps.evChargers) {
      components.add(ev.component);
      if (!d.evChargers) continue;
      d.evChargers.bindComponent(ev.chargerId, ev.component);
      this.evQueues.set(ev.component, new EvLimitQueue(ev, d.evChargers, d.clock, { onError: onError(ev.component), onWritten: onWritten(ev.component) }));
    }
    if (d.relays && planned.relayMeters.size) {
      const relays = d.relays;
      const queue = new DispatchQueue(
        'relays',
        relayWriter(relays, (c) => planned.relayMeters.get(c), new ShedLedger(d.db), d.clock, {
          ...(d.claims ? { claims: d.claims } : {}),
          ...(d.businessOpen ? { businessOpen: d.businessOpen } : {}),
        }),
        d.clock,
        { reassertMs: Number.POSITIVE_INFINITY, onError: onError('relays'), onWritten: onWritten('relays') },
      );
      this.queues.set('relays', queue);
      for (const comp of planned.relayMeters.keys()) this.routes.set(`${comp}/SetClosed`, { queue, channel: `${comp}/SetClosed` });
    }
    const dispatcher: Dispatcher = {
      send: (target, value) => {
        const ev = this.evQueues.get(target.slice(0, target.indexOf('/')));
        if (ev && target.endsWith('/SetChargeLimit')) {
          ev.set(value);
          return true;
        }
        const r = this.routes.get(target);
        if (!r) return false;
        r.queue.set(r.channel, value);
        return true;
      },
    };
    this.cycle = new EdgeCycle(planned, {
      image: d.site.image,
      clock: d.clock,
      host: this.host,
      dispatcher,
      log: this.log,
      gov: this.gov,
      proposals: this.proposals,
      periodMs: d.config.periodMs,
      budgetMs: d.config.budgetMs,
      proposalTtlMs: d.config.proposalTtlMs,
      ...(d.config.emergencyStop ? { eStop: { channel: d.config.emergencyStop.channel, pressedValue: d.config.emergencyStop.pressedValue } } : {}),
      alarm: (a) => ('clear' in a ? this.clearAlarm(a.clear, a.subject) : this.raise(a)),
      onEscalation: (e) => {
        try {
          d.onEscalation?.(e);
        } catch {
          /* a notification path that fails must not stop the cycle */
        }
      },
      components,
      readingsInMs: () => d.site.controlReadingsMs(),
      onReadings: (listener) =>
        d.site.live.subscribe((e) => {
          if (d.site.control.busIntervalMs(e.report.bus) !== undefined) listener();
        }),
      ...(d.config.stepTrigger ? { stepTrigger: d.config.stepTrigger } : {}),
      maxAgeMs: d.config.maxAgeMs,
    });
  }

  private planFor(controllers: readonly ControllerConfig[]): ControlPlan {
    const r = planControl(
      { ...this.d.config, controllers: [...controllers] },
      { timeZone: this.d.timeZone, extra: this.d.hooks?.controllers, extraKinds: this.d.hooks?.kinds },
    );
    if (!r.ok) throw new ControlError(`control: ${r.problems.join('; ')}`, 400);
    return r.plan;
  }

  private raise(a: { rule: string; subject: string; message: string; severity: 'critical' | 'major' | 'minor' | 'info' }): void {
    this.openAlarms.add(`${a.rule}|${a.subject}`);
    try {
      this.d.alarms?.raise({ ...a, at: this.d.clock() });
    } catch {
      /* an alarm store that cannot write must not stop the cycle */
    }
  }

  private clearAlarm(rule: string, subject: string): void {
    if (!this.openAlarms.delete(`${rule}|${subject}`)) return;
    try {
      this.d.alarms?.clear(rule, subject, { at: this.d.clock() });
    } catch {
      /* as above */
    }
  }

  start(): void {
    this.cycle.start();
  }

  async stop(): Promise<void> {
    await this.cycle.stop();
    for (const q of this.queues.values()) q.close();
    for (const q of this.evQueues.values()) q.close();
    await this.host.close();
    this.log.flush(this.d.clock(), true);
  }

  // --- operations for the API (each audited) --------------------------------------------------

  controllerConfigList(): readonly ControllerConfig[] {
    return this.controllerConfigs;
  }

  /** Checks a controller list exactly as setMode does, changing nothing; a ControlError (400) names the field. */
  checkMode(controllers: readonly unknown[]): { parsed: ControllerConfig[]; plan: ControlPlan } {
    const parsed: ControllerConfig[] = [];
    const problems: string[] = [];
    controllers.forEach((c, i) => {
      const r = controllerConfigSchema.safeParse(c, { error: sentenceErrorMap });
      if (r.success) parsed.push(r.data);
      else
        for (const is of describeValidation(`controllers.${i}`, r.error, c).issues)
          problems.push(is.field.startsWith('controllers.') ? `${is.field}: ${is.message}` : `controllers.${i}.${is.field}: ${is.message}`);
    });
    const ids = parsed.map((c) => c.id);
    const dup = ids.find((x, i) => ids.indexOf(x) !== i);
    if (dup) problems.push(`controller id "${dup}" is used twice`);
    if (problems.length) throw new ControlError(problems.join('; '), 400);
    return { parsed, plan: this.planFor(parsed) };
  }

  setMode(controllers: readonly unknown[], by: string, reason: string): void {
    const { parsed, plan } = this.checkMode(controllers);
    this.controllerConfigs = parsed;
    this.cycle.setPlan(plan);
    this.log.note({
      ts: this.d.clock(),
      actor: by,
      action: 'mode',
      detail: `controllers now ${
        parsed
          .filter((c) => c.enabled)
          .map((c) => `${c.id} (${c.kind})`)
          .join(', ') || 'none'
      }: ${reason}`,
    });
    this.log.flush(this.d.clock(), true);
  }

  approve(id: number, by: string): ControlProposal {
    const now = this.d.clock();
    const p = this.proposals.get(id);
    if (!p) throw new ControlError(`proposal ${id} does not exist`, 404);
    if (p.state !== 'pending') throw new ControlError(`proposal ${id} is ${p.state}, not pending`, 409);
    if (now >= p.expiresAt) {
      this.proposals.transition(id, 'expired', 'system', now, 'expired before approval');
      throw new ControlError(`proposal ${id} expired at ${new Date(p.expiresAt).toISOString()}`, 409);
    }
    if (!this.proposals.transition(id, 'approved', by, now, 'approved')) throw new ControlError(`proposal ${id} was decided by someone else`, 409);
    const expiresAtMs = now + this.d.config.approvalHoldMs;
    this.gov.approvals.set(p.target, { proposalId: id, by, target: p.target, value: p.value, atMs: now, expiresAtMs });
    this.log.note({
      ts: now,
      actor: by,
      action: 'approved',
      detail: `proposal ${id}: ${p.target} = ${whole(p.value)} approved until ${new Date(expiresAtMs).toISOString()}`,
    });
    this.log.flush(now, true);
    return this.proposals.require(id);
  }

  reject(id: number, by: string, reason: string): ControlProposal {
    const now = this.d.clock();
    const p = this.proposals.get(id);
    if (!p) throw new ControlError(`proposal ${id} does not exist`, 404);
    if (!this.proposals.transition(id, 'rejected', by, now, reason)) throw new ControlError(`proposal ${id} is ${p.state}, not pending`, 409);
    this.log.note({ ts: now, actor: by, action: 'rejected', detail: `proposal ${id}: ${p.target} = ${whole(p.value)} rejected: ${reason}` });
    this.log.flush(now, true);
    return this.proposals.require(id);
  }

  /** A person takes an asset for `minutes`: a setpoint (battery W, PV limit W, generator 0/1, relay 0/1) or a battery mode. */
  override(
    o: { asset: string; setpoint?: number; mode?: 'charge' | 'discharge' | 'idle'; minutes: number; reason: string },
    by: string,
  ): { id: number; asset: string; targets: Array<{ target: string; value: number }>; untilMs: number } {
    const caps = this.cycle.controlPlan.caps;
    const now = this.d.clock();
    const untilMs = now + o.minutes * 60_000;
    const b = caps.batteries.find((x) => x.component === o.asset);
    const pv = caps.pv.find((x) => x.component === o.asset);
    const g = caps.generators.find((x) => x.component === o.asset);
    const r = caps.relays.find((x) => x.component === o.asset);
    const ev = caps.evChargers.find((x) => x.component === o.asset);
    let targets: Array<{ target: string; value: number }>;
    if (b) {
      const w = o.mode ? (o.mode === 'idle' ? 0 : o.mode === 'charge' ? -b.maxChargeW : b.maxDischargeW) : o.setpoint;
      if (w === undefined) throw new ControlError('a battery override needs setpoint (W, discharge positive) or mode (charge, discharge, idle)', 400);
      targets =
        b.kind === 'battery-setpoint' && b.perPhase
          ? PHASES.map((p) => ({ target: command.batteryPower(b, p), value: w / b.phases }))
          : [{ target: command.batteryPower(b), value: w }];
    } else if (pv || g || r || ev) {
      if (o.setpoint === undefined) throw new ControlError(`an override of ${o.asset} needs setpoint`, 400);
      const target = pv ? command.pvLimit(pv) : g ? command.generatorRun(g) : ev ? command.evLimit(ev) : command.relayClosed(r as NonNullable<typeof r>);
      targets = [{ target, value: o.setpoint }];
    } else
      throw new ControlError(
        `no asset "${o.asset}"; assets: ${[...caps.batteries, ...caps.pv, ...caps.generators, ...caps.relays, ...caps.evChargers].map((x) => x.component).join(', ') || 'none'}`,
        404,
      );
    const id = this.gov.newOverrideId();
    for (const t of targets) this.gov.overrides.set(t.target, { id, asset: o.asset, by, target: t.target, value: t.value, untilMs, reason: o.reason });
    // A person holding a customer's relay outranks billing on it until the override ends.
    const meter = r ? this.cycle.controlPlan.relayMeters.get(r.component) : undefined;
    if (meter !== undefined && o.setpoint !== undefined)
      this.d.claims?.claim(meter, {
        by: overrideClaim(o.asset),
        criticality: 'safety',
        state: o.setpoint >= 0.5 ? 'closed' : 'open',
        why: `override ${id} by ${by}: ${o.reason}`,
        untilMs,
      });
    this.log.note({
      ts: now,
      actor: by,
      action: 'override',
      detail: `override ${id} of ${o.asset}: ${targets.map((t) => `${t.target} = ${t.value}`).join(', ')} until ${new Date(untilMs).toISOString()} (safety still applies): ${o.reason}`,
    });
    this.log.flush(now, true);
    return { id, asset: o.asset, targets, untilMs };
  }

  releaseOverride(asset: string, by: string, reason: string): boolean {
    const now = this.d.clock();
    let found = false;
    for (const [t, o] of this.gov.overrides) {
      if (o.asset !== asset) continue;
      this.gov.overrides.delete(t);
      found = true;
    }
    if (!found) return false;
    const meter = this.cycle.controlPlan.relayMeters.get(asset);
    if (meter !== undefined) this.d.claims?.release(meter, overrideClaim(asset));
    this.log.note({ ts: now, actor: by, action: 'override-released', detail: `override of ${asset} released: ${reason}` });
    this.log.flush(now, true);
    return true;
  }

  confirm(capability: AssetCapability, asset: string, by: string): boolean {
    const key = autonomyKey(capability, asset);
    const esc = this.gov.escalations.get(key) ?? null;
    const r = confirmEscalation(esc, by, this.d.clock());
    if (!r.audit) return false;
    this.gov.escalations.delete(key);
    this.log.note({ ...r.audit, detail: `${capability} on ${asset}: ${r.audit.detail}` });
    this.log.flush(this.d.clock(), true);
    this.clearAlarm('control_escalation', `${capability}:${asset}`);
    return true;
  }

  /** Cycle health and what was decided, for GET /api/control. */
  status(): Record<string, unknown> {
    const plan = this.cycle.controlPlan;
    const now = this.d.clock();
    const last = this.log.recent(1)[0];
    const assets = [
      ...plan.caps.batteries.map((b) => ({ component: b.component, kind: b.kind })),
      ...plan.caps.pv.map((p) => ({ component: p.component, kind: p.kind })),
      ...plan.caps.generators.map((g) => ({ component: g.component, kind: g.kind })),
      ...plan.caps.relays.map((r) => ({ component: r.component, kind: `relay-${r.role}` })),
      ...plan.caps.evChargers.map((e) => ({ component: e.component, kind: e.kind })),
    ];
    const caps = ['battery-dispatch', 'pv-curtailment', 'generator-operation', 'load-shedding', 'islanding', 'ev-charging'] as const;
    return {
      now,
      periodMs: this.d.config.periodMs,
      budgetMs: this.d.config.budgetMs,
      timing: this.cycle.timing.summary(),
      controllers: this.cycle.controllers().map((c) => ({ ...c, config: this.controllerConfigs.find((k) => k.id === c.id) ?? null })),
      modes: Object.fromEntries(this.cycle.lastModes),
      eStop: this.cycle.lastEnvelope?.eStop ?? false,
      safe: this.cycle.lastEnvelope?.safe ?? [],
      lastCycle: last
        ? {
            cycle: last.cycle,
            at: last.at,
            durationMs: Math.round(last.durationMs * 100) / 100,
            jitterMs: Math.round(last.jitterMs * 100) / 100,
            decisions: last.decisions,
          }
        : null,
      recommendations: [...this.gov.recommendations.values()],
      overrides: [...this.gov.overrides.values()].map((o) => ({
        id: o.id,
        asset: o.asset,
        target: o.target,
        value: o.value,
        by: o.by,
        untilMs: o.untilMs,
        remainingS: Math.max(0, Math.round((o.untilMs - now) / 1000)),
        reason: o.reason,
      })),
      approvals: [...this.gov.approvals.values()],
      escalations: [...this.gov.escalations].map(([k, e]) => ({ capability: k.split('|')[0], asset: k.split('|')[1], sinceMs: e.sinceMs, why: e.why })),
      autonomy: assets.flatMap((a) =>
        caps
          .filter((c) => relevant(c, a.kind))
          .map((c) => ({ capability: c, asset: a.component, level: levelOf(plan, c, a.component), default: DEFAULT_ACTION_AUTONOMY[c] })),
      ),
      assets,
      dispatch: [...[...this.queues.values()].map((q) => q.state()), ...[...this.evQueues.values()].map((q): DispatchState => q.state())],
      pendingProposals: this.proposals.list('pending').length,
    };
  }
}

const overrideClaim = (asset: string): string => `override of ${asset}`;

function relevant(c: AssetCapability, kind: string): boolean {
  if (kind.startsWith('battery')) return c === 'battery-dispatch';
  if (kind === 'pv-limit') return c === 'pv-curtailment';
  if (kind === 'generator') return c === 'generator-operation';
  if (kind === 'relay-pcc') return c === 'islanding';
  if (kind === 'ev-charger') return c === 'ev-charging';
  return c === 'load-shedding' && kind.startsWith('relay');
}
