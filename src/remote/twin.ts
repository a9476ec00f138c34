import { ControlError, type ControlRuntime } from '../edge/control-runtime.js';
import type { Clock } from '../util/clock.js';
import type { TwinConfig } from './command-schema.js';
import type { Refusal } from './request-ids.js';
import type { DesiredRecord, TwinStore } from './twin-store.js';

/** The reported side of the twin, published retained on `<prefix>/<site>/twin/reported`. */
export interface Reported {
  readonly at: number;
  /** What is in force now: the edge cycle's controllers (null on a site without a control section). */
  readonly config: { readonly controllers: readonly unknown[] } | null;
  /** The newest desired configuration an authorised user sent, and what became of it (applied or refused). */
  readonly desired: Omit<DesiredRecord, 'config'> | null;
  /** The newest desired configuration applied: the one restored at start. */
  readonly applied: Omit<DesiredRecord, 'config'> | null;
  /** True when the configuration in force is the applied one (a later mode change from the UI or SCADA breaks it). */
  readonly inStep: boolean;
  /** A desired message that could not be read or was not authorised (not kept across restarts). */
  readonly problem: (Refusal & { readonly at: number }) | null;
}

const NO_CONTROL = 'this site has no control section, so there is no edge cycle to configure; add control: to the site file';

/**
 * Checks a controller list as a mode change would (ControlRuntime.checkMode), changing nothing: null
 * when it would be taken, else the field under `at` (e.g. `command.controllers.0.kind`) and why.
 */
export function checkControllers(control: ControlRuntime | null, controllers: readonly unknown[], at: string): Refusal | null {
  if (!control) return { field: at, reason: `${at}: ${NO_CONTROL}` };
  try {
    control.checkMode(controllers);
    return null;
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    const m = /^controllers((?:\.[\w-]+)*): /.exec(e.message);
    return m ? { field: `${at}${m[1] ?? ''}`, reason: `${at}${e.message.slice('controllers'.length)}` } : { field: at, reason: `${at}: ${e.message}` };
  }
}

function withoutConfig(r: DesiredRecord | null): Omit<DesiredRecord, 'config'> | null {
  return r && { version: r.version, requestId: r.requestId, by: r.by, status: r.status, field: r.field, reason: r.reason, at: r.at };
}

/**
 * The device twin (issue 12 item 3): the cloud's desired configuration applied through the same
 * function as a mode change from the UI (ControlRuntime.setMode: validated, audited, governance as
 * always), cached in SQLite so the site keeps it offline and restores it at start, and the reported
 * configuration for the cloud. A desired configuration that fails validation changes nothing.
 */
export class DeviceTwin {
  /** The controller list setMode produced for the applied desired configuration (compared by reference). */
  private appliedList: readonly unknown[] | null = null;
  private problem: (Refusal & { at: number }) | null = null;

  constructor(
    private readonly d: {
      readonly store: TwinStore;
      readonly control: ControlRuntime | null;
      readonly clock: Clock;
      readonly log?: (msg: string) => void;
    },
  ) {}

  /** The newest version an authorised user sent (0 before any): older or equal ones are not processed again. */
  lastVersion(): number {
    return this.d.store.last()?.version ?? 0;
  }

  /** A desired configuration from an authorised user that failed its check: cached as refused, nothing else changes. */
  refuse(version: number, config: TwinConfig, requestId: string, by: string, r: Refusal): void {
    this.d.store.save({ version, requestId, by, config, at: this.d.clock(), status: 'refused', field: r.field, reason: r.reason });
  }

  /** Applies a desired configuration from an authorised user; what became of it is cached either way. */
  apply(version: number, config: TwinConfig, requestId: string, by: string): { ok: true; controllers: readonly unknown[] } | { ok: false; reason: string } {
    const base = { version, requestId, by, config, at: this.d.clock() };
    const control = this.d.control;
    let reason: string;
    if (!control) reason = `config.controllers: ${NO_CONTROL}`;
    else
      try {
        control.setMode(config.controllers, by, `desired configuration v${version} (remote request ${requestId})`);
        this.appliedList = control.controllerConfigList();
        this.problem = null;
        this.d.store.save({ ...base, status: 'applied', field: null, reason: null });
        return { ok: true, controllers: this.appliedList };
      } catch (e) {
        if (!(e instanceof ControlError)) throw e;
        reason = e.message.startsWith('controllers') ? `config.${e.message}` : `config.controllers: ${e.message}`;
      }
    this.d.store.save({ ...base, status: 'refused', field: 'config.controllers', reason });
    return { ok: false, reason };
  }

  /** A desired message that was unreadable or unauthorised: shown in the reported state, changes nothing. */
  noteProblem(r: Refusal): void {
    this.problem = { ...r, at: this.d.clock() };
  }

  /** At start: the applied desired configuration goes back into force (the site file's controllers would otherwise). */
  restore(): void {
    const a = this.d.store.applied();
    const control = this.d.control;
    if (!a || !control) return;
    try {
      control.setMode(
        a.config.controllers,
        'system',
        `desired configuration v${a.version} from ${a.by ?? 'unknown'} (remote request ${a.requestId}) restored at start`,
      );
      this.appliedList = control.controllerConfigList();
    } catch (e) {
      if (!(e instanceof ControlError)) throw e;
      this.noteProblem({ field: 'config.controllers', reason: `the cached desired configuration v${a.version} no longer applies: ${e.message}` });
      this.d.log?.(`remote: cached desired configuration v${a.version} not restored: ${e.message}`);
    }
  }

  /** The controller list in force (a new array whenever the mode changes). */
  inForce(): readonly unknown[] | null {
    return this.d.control?.controllerConfigList() ?? null;
  }

  reported(): Reported {
    const inForce = this.inForce();
    const applied = this.d.store.applied();
    return {
      at: this.d.clock(),
      config: inForce ? { controllers: inForce } : null,
      desired: withoutConfig(this.d.store.last()),
      applied: withoutConfig(applied),
      inStep: applied !== null && inForce !== null && inForce === this.appliedList,
      problem: this.problem,
    };
  }
}
