import { z } from '#zod';
import type { RecordedRequest } from '../test-server.js';
import { evaluateCheck, SUPPORTED_CHECKS, type CheckContext, type CheckResult } from './checks.js';
import { resolveParams, resolveValue, type Resolver } from './expressions.js';
import { usages, type Action, type Check, type Procedure } from './procedure.js';
import { RATE_KEYS, type Base, type UtilityModel } from './utility-model.js';

/**
 * Runs a procedure's steps against the utility model: the init phase (init actions, then waiting for
 * the precondition checks, then the precondition actions; skipped with `immediate_start`), steps whose
 * events fire on the client's requests (before or after the server answers) or after a wait on the
 * run's clock, their actions, and the criteria at the end (a `finish-test` action or no step left).
 */

export const SUPPORTED_ACTIONS: ReadonlySet<string> = new Set([
  'enable-steps',
  'remove-steps',
  'finish-test',
  'set-default-der-control',
  'create-der-control',
  'create-der-program',
  'cancel-active-der-controls',
  'set-comms-rate',
  'communications-status',
  'edev-registration-links',
  'register-end-device',
  'remove-function-set-assignment',
]);
export const SUPPORTED_EVENTS: ReadonlySet<string> = new Set([
  'GET-request-received',
  'POST-request-received',
  'PUT-request-received',
  'DELETE-request-received',
  'wait',
]);

/** The names a procedure uses that this interpreter does not implement (empty: it can run). */
export function unsupportedNames(p: Procedure): string[] {
  const u = usages(p);
  const names = [
    ...u.actions.filter((a) => !SUPPORTED_ACTIONS.has(a.type)).map((a) => `action ${a.type}`),
    ...u.checks.filter((c) => !SUPPORTED_CHECKS.has(c.type)).map((c) => `check ${c.type}`),
    ...u.events.filter((e) => !SUPPORTED_EVENTS.has(e)).map((e) => `event ${e}`),
  ];
  return [...new Set(names)];
}

const steps = z.array(z.string());
const optNum = z.number().optional();
const optInt = z.number().int().optional();
const optBool = z.boolean().optional();
const time = z.union([
  z.object({ timeMs: z.number() }),
  z.string().transform((s, ctx) => {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `expected a date and time, found ${s}` });
      return z.NEVER;
    }
    return { timeMs: ms };
  }),
]);

const LIMITS = ['opModImpLimW', 'opModExpLimW', 'opModGenLimW', 'opModLoadLimW', 'opModStorageTargetW', 'opModFixedW'] as const;

const limitShape = {
  opModImpLimW: optNum,
  opModExpLimW: optNum,
  opModGenLimW: optNum,
  opModLoadLimW: optNum,
  opModStorageTargetW: optNum,
  opModFixedW: optNum,
};

const DefaultParams = z.object({
  derp_id: optInt,
  setGradW: optInt,
  cancelled: optBool,
  ...limitShape,
});
const ControlParams = z.object({
  start: time,
  duration_seconds: z.number().int().min(0),
  pow_10_multipliers: optInt,
  primacy: optInt,
  der_program_tag: z.string().optional(),
  fsa_id: optInt,
  randomizeStart_seconds: optInt,
  ramp_time_seconds: optNum,
  opModEnergize: optBool,
  opModConnect: optBool,
  tag: z.string().optional(),
  end_device_indexes: z.array(z.number()).optional(),
  ...limitShape,
});

export interface StepLog {
  readonly atMs: number;
  readonly step: string;
}

/** How long a run goes on after its last step and its last control's end (two polls at 60 s, and a margin). */
export const GRACE_S = 150;

export class ProcedureRun {
  phase: 'init' | 'test' = 'init';
  readonly active = new Map<string, number>();
  readonly completed = new Set<string>();
  readonly triggered: StepLog[] = [];
  finished: { failMessage?: string } | null = null;
  /** An action that could not be applied (bad parameter, unresolvable variable): the run fails with it. */
  readonly errors: string[] = [];
  private readonly randuris = new Map<number, string>();
  private idleSinceMs: number | null = null;
  /** Since when every precondition check has passed (the operator then starts the test). */
  private readySinceMs: number | null = null;

  /**
   * `startDelayMs`: how long after the precondition checks pass the operator starts the test (CACTUS
   * starts it at the operator's click, at a phase of the client's polling the harness does not choose).
   */
  constructor(
    readonly procedure: Procedure,
    readonly model: UtilityModel,
    readonly startDelayMs = 0,
  ) {
    model.hooks = { before: (r) => this.onRequest(r, false), after: (r) => this.onRequest(r, true) };
  }

  resolver(): Resolver {
    return {
      nowMs: this.model.clock(),
      settings: this.model.reports.settings,
      capability: this.model.reports.capability,
      randuri: (n) => {
        const have = this.randuris.get(n);
        if (have) return have;
        const v = `/${this.procedure.id.toLowerCase()}-r${n}-${this.model.clock().toString(36)}`;
        this.randuris.set(n, v);
        return v;
      },
    };
  }

  context(): CheckContext {
    return {
      model: this.model,
      resolver: this.resolver(),
      completedSteps: this.completed,
      activeSteps: new Set(this.active.keys()),
      allSteps: Object.keys(this.procedure.Steps),
    };
  }

  check(c: Check): CheckResult {
    const r = evaluateCheck(c, this.context());
    return r === 'unsupported' ? { pass: false, reason: `check ${c.type} is not implemented for this case` } : r;
  }

  /** Applies the init actions; with immediate_start also the precondition actions, and starts the steps. */
  begin(): void {
    this.apply(this.procedure.Preconditions.init_actions);
    if (this.procedure.Preconditions.immediate_start) this.startTest();
  }

  /**
   * In the init phase, starts the test once every precondition check has passed for `startDelayMs` (checked
   * again then); returns the first failing one.
   */
  poll(): CheckResult {
    if (this.phase === 'test') return { pass: true };
    for (const c of this.procedure.Preconditions.checks) {
      const r = this.check(c);
      if (!r.pass) {
        this.readySinceMs = null;
        return r;
      }
    }
    this.readySinceMs ??= this.model.clock();
    if (this.model.clock() >= this.readySinceMs + this.startDelayMs) this.startTest();
    return { pass: true };
  }

  private startTest(): void {
    this.phase = 'test';
    this.apply(this.procedure.Preconditions.actions);
    const enabledByOthers = new Set<string>();
    for (const [name, s] of Object.entries(this.procedure.Steps))
      for (const a of s.actions) if (a.type === 'enable-steps') for (const x of this.stepNames(a)) if (x !== name) enabledByOthers.add(x);
    for (const name of Object.keys(this.procedure.Steps)) if (!enabledByOthers.has(name)) this.active.set(name, this.model.clock());
  }

  /**
   * With no step left and no `finish-test`, the harness's operator would finalise the test once the
   * client has had its say: here when every control has ended and `GRACE_S` more have passed.
   */
  idleDone(): boolean {
    if (this.phase !== 'test' || this.active.size > 0) return false;
    this.idleSinceMs ??= this.model.clock();
    const lastEndMs = Math.max(0, ...this.model.controls.map((c) => (c.startS + c.durationS) * 1000));
    return this.model.clock() >= Math.max(this.idleSinceMs, lastEndMs) + GRACE_S * 1000;
  }

  /** When the next wait ends (epoch ms), if any step waits. */
  nextWakeMs(): number | undefined {
    let next: number | undefined = this.phase === 'init' && this.readySinceMs !== null ? this.readySinceMs + this.startDelayMs : undefined;
    for (const [name, since] of this.active) {
      const ev = this.procedure.Steps[name]?.event;
      if (ev?.type !== 'wait') continue;
      const at = since + Number(ev.parameters['duration_seconds'] ?? 0) * 1000;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  /** Fires the wait events that are due. */
  onTime(): void {
    const now = this.model.clock();
    for (const [name, since] of [...this.active]) {
      if (this.isFinished()) return;
      const ev = this.procedure.Steps[name]?.event;
      if (ev?.type !== 'wait' || !this.active.has(name)) continue;
      if (now >= since + Number(ev.parameters['duration_seconds'] ?? 0) * 1000) this.fire(name);
    }
  }

  private onRequest(r: RecordedRequest, served: boolean): void {
    if (this.phase !== 'test' || this.finished) return;
    for (const name of [...this.active.keys()]) {
      if (this.isFinished()) return;
      const ev = this.procedure.Steps[name]?.event;
      if (!ev || !ev.type.endsWith('-request-received') || ev.type !== `${r.method}-request-received`) continue;
      if ((ev.parameters['serve_request_first'] === true) !== served) continue;
      let endpoint: unknown;
      try {
        endpoint = resolveValue(ev.parameters['endpoint'], 'endpoint', this.resolver());
      } catch (e) {
        this.errors.push(`${name}: endpoint: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      if (typeof endpoint !== 'string' || !matches(endpoint, r.path)) continue;
      if (!(ev.checks ?? []).every((c) => this.check(c).pass)) continue;
      this.fire(name);
    }
  }

  /** A method, so that a step's actions (which may finish the run) are seen inside loops. */
  isFinished(): boolean {
    return this.finished !== null;
  }

  private fire(name: string): void {
    this.triggered.push({ atMs: this.model.clock(), step: name });
    this.apply(this.procedure.Steps[name]?.actions ?? [], name);
  }

  private stepNames(a: Action): string[] {
    const v = a.parameters['steps'];
    return typeof v === 'string' ? [v] : steps.parse(v);
  }

  apply(actions: readonly Action[], where = 'Preconditions'): void {
    // What the actions change in a subscribed resource is notified (sent by the runner at its next stop).
    const before = this.model.snapshot();
    try {
      this.applyAll(actions, where);
    } finally {
      this.model.notifyChanges(before);
    }
  }

  private applyAll(actions: readonly Action[], where: string): void {
    for (const a of actions) {
      if (this.finished) return;
      try {
        this.applyOne(a);
      } catch (e) {
        this.errors.push(
          `${where}: ${a.type}: ${e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
  }

  private applyOne(a: Action): void {
    const m = this.model;
    const p = resolveParams(a.parameters, this.resolver());
    switch (a.type) {
      case 'enable-steps':
        for (const s of this.stepNames(a)) {
          if (!this.procedure.Steps[s]) throw new Error(`no step named ${s}`);
          this.active.set(s, m.clock());
          this.completed.delete(s);
        }
        return;
      case 'remove-steps':
        for (const s of this.stepNames(a)) {
          if (this.active.delete(s)) this.completed.add(s);
        }
        return;
      case 'finish-test': {
        const msg = z.string().optional().parse(p['fail_message']);
        this.finished = msg === undefined ? {} : { failMessage: msg };
        return;
      }
      case 'create-der-program': {
        const q = z.object({ primacy: z.number().int(), fsa_id: optInt, tag: z.string().optional() }).parse(p);
        m.createProgram(q.primacy, q.fsa_id ?? 1, q.tag);
        return;
      }
      case 'set-default-der-control': {
        const q = DefaultParams.parse(p);
        const targets = q.derp_id === undefined ? m.programs : m.programs.filter((x) => x.id === q.derp_id);
        if (targets.length === 0) throw new Error(q.derp_id === undefined ? 'there is no DERProgram yet' : `no DERProgram ${q.derp_id}`);
        for (const prog of targets) {
          const base: Base = q.cancelled ? {} : { ...(prog.dflt?.base ?? {}) };
          for (const k of LIMITS) {
            const v = q[k];
            if (v !== undefined) base[k] = v;
          }
          prog.dflt = { base, setGradW: q.setGradW ?? (q.cancelled ? undefined : prog.dflt?.setGradW) };
        }
        return;
      }
      case 'create-der-control': {
        const q = ControlParams.parse(p);
        const prog = m.programFor({ tag: q.der_program_tag, primacy: q.primacy, fsaId: q.fsa_id });
        const base: Base = {};
        for (const k of LIMITS) {
          const v = q[k];
          if (v !== undefined) base[k] = v;
        }
        if (q.opModConnect !== undefined) base['opModConnect'] = q.opModConnect;
        if (q.opModEnergize !== undefined) base['opModEnergize'] = q.opModEnergize;
        m.createControl({
          tag: q.tag,
          programId: prog.id,
          startS: Math.floor(q.start.timeMs / 1000),
          durationS: q.duration_seconds,
          randomizeStart: q.randomizeStart_seconds,
          rampTms: q.ramp_time_seconds === undefined ? undefined : Math.round(q.ramp_time_seconds * 100),
          multiplier: q.pow_10_multipliers,
          base,
        });
        return;
      }
      case 'cancel-active-der-controls':
        m.cancelActive();
        return;
      case 'set-comms-rate':
        for (const k of RATE_KEYS) {
          const v = z.number().int().min(1).max(86_400).optional().parse(p[k]);
          if (v !== undefined) m.rates[k] = v;
        }
        return;
      case 'communications-status':
        m.commsEnabled = z.boolean().parse(p['enabled']);
        return;
      case 'edev-registration-links':
        m.registrationLinks = z.boolean().parse(p['enabled']);
        return;
      case 'register-end-device': {
        // The EndDevice of the client's certificate (NMI and aggregator identities are not modelled).
        m.registerOutOfBand();
        const pin = optInt.parse(p['registration_pin']);
        if (pin !== undefined) m.pin = pin * 10 + checkDigit(pin);
        return;
      }
      case 'remove-function-set-assignment': {
        // The FSA leaves the EndDevice's list; its DERPrograms stay where they are.
        const id = z.number().int().parse(p['fsa_id']);
        if (!m.fsaIds.delete(id)) throw new Error(`fsa_id ${id}: no such FunctionSetAssignments`);
        return;
      }
      default:
        throw new Error(`action ${a.type} is not implemented`);
    }
  }
}

/** The check digit of a registration PIN (digit sum a multiple of 10, as for the SFDI). */
function checkDigit(n: number): number {
  const sum = String(n)
    .split('')
    .reduce((s, d) => s + Number(d), 0);
  return (10 - (sum % 10)) % 10;
}

/** An endpoint with `*` standing for one path component. */
export function matches(endpoint: string, path: string): boolean {
  const a = endpoint.split('/');
  const b = path.split('/');
  return a.length === b.length && a.every((x, i) => x === '*' || x === b[i]);
}
