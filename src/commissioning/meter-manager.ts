import { z } from '#zod';
import { meterSchema, siteConfigSchemaFor, type MeterConfig, type SiteConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { meterKey, resolveProfile } from '../site/devices.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { ConfigVersion, ConfigVersions } from './config-versions.js';
import { diffMeters } from './meter-changes.js';

/** A refused or failed change; `status` is the HTTP status that fits it. */
export class MeterChangeError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** Returns why `address` may not be used by a meter with `phases` on `bus`, or null when it may. */
export type AddressCheck = (bus: string, phases: 1 | 3, address: number, ignoreMeterId?: number) => string | null;

export interface MeterManagerDeps {
  readonly site: SiteRuntime;
  readonly config: SiteConfig;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  readonly versions: ConfigVersions;
  readonly checkAddress: AddressCheck;
  /** Makes sure the meter's readings are on disk and returns whether any are stored. */
  readonly readingsStored: (key: string) => boolean;
  /** How many poll cycles a new meter gets to prove itself (the issue asks for two). */
  readonly verifyCycles?: number;
}

export const meterPatchSchema = z
  .object({
    name: meterSchema.shape.name.optional(),
    enabled: z.boolean().optional(),
    role: meterSchema.shape.role.optional(),
    ctRatio: z.number().positive().optional(),
    ptRatio: z.number().positive().optional(),
    invert: z.boolean().optional(),
  })
  .strict();

export type MeterPatch = z.output<typeof meterPatchSchema>;

/**
 * Adds, changes, disables and removes meters on the running site, with the checks of the field
 * team's add_meter.sh (address range, model, duplicates), each change a new configuration version.
 * A new or re-enabled meter must answer and be stored within two poll cycles, or the change is
 * rolled back with the reason.
 */
export class MeterManager {
  private current: MeterConfig[];
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: MeterManagerDeps) {
    this.current = [...(d.versions.latest()?.meters ?? d.config.meters)];
  }

  meters(): readonly MeterConfig[] {
    return this.current;
  }

  add(input: unknown, by: string, reason = 'meter added'): Promise<{ meter: MeterConfig; version: ConfigVersion }> {
    return this.serialised(async () => {
      const parsed = meterSchema.safeParse(input);
      if (!parsed.success) throw new MeterChangeError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      const meter = { ...parsed.data, bus: parsed.data.bus ?? this.d.config.buses[0]?.id };
      if (this.current.some((m) => m.id === meter.id))
        throw new MeterChangeError(
          409,
          `id: meter ${meter.id} already exists (${this.current.find((m) => m.id === meter.id)?.name}); pick another id or change that meter`,
        );
      this.checkPlan(meter);
      const version = await this.apply([...this.current, meter], by, reason, meter.enabled ? meter : null);
      return { meter, version };
    });
  }

  update(key: string, patch: MeterPatch, by: string, reason = 'meter changed'): Promise<{ meter: MeterConfig; version: ConfigVersion }> {
    return this.serialised(async () => {
      const old = this.find(key);
      const meter: MeterConfig = { ...old, ...Object.fromEntries(Object.entries<unknown>(patch).filter(([, v]) => v !== undefined)) };
      const next = this.current.map((m) => (m.id === old.id ? meter : m));
      const mustAnswer = meter.enabled && (!old.enabled || JSON.stringify(old) !== JSON.stringify(meter)) ? meter : null;
      const version = await this.apply(next, by, reason, mustAnswer);
      return { meter, version };
    });
  }

  remove(key: string, by: string, reason = 'meter removed'): Promise<ConfigVersion> {
    return this.serialised(async () => {
      const old = this.find(key);
      return this.apply(
        this.current.filter((m) => m.id !== old.id),
        by,
        reason,
        null,
      );
    });
  }

  restore(version: number, by: string): Promise<ConfigVersion> {
    return this.serialised(async () => {
      const v = this.d.versions.get(version);
      if (!v) throw new MeterChangeError(404, `no configuration version ${version}`);
      return this.apply([...v.meters], by, `restored version ${version}`, null, 'restore');
    });
  }

  private find(key: string): MeterConfig {
    const m = this.current.find((x) => meterKey(x) === key);
    if (!m) throw new MeterChangeError(404, `no meter ${key}`);
    return m;
  }

  private checkPlan(m: MeterConfig): void {
    let phases: 1 | 3;
    try {
      phases = resolveProfile(m.type, this.d.profiles).phases;
    } catch (e) {
      throw new MeterChangeError(400, (e as Error).message);
    }
    const problem = this.d.checkAddress(m.bus ?? '', phases, m.address ?? m.id, m.id);
    if (problem) throw new MeterChangeError(409, `id: ${problem}`);
  }

  /** Validates the whole list like a site file, applies the difference, verifies, or rolls back. */
  private async apply(
    next: MeterConfig[],
    by: string,
    reason: string,
    mustAnswer: MeterConfig | null,
    source: ConfigVersion['source'] = 'change',
  ): Promise<ConfigVersion> {
    const check = siteConfigSchemaFor([...this.d.profiles.keys()]).safeParse({ ...this.d.config, meters: next });
    if (!check.success) {
      throw new MeterChangeError(409, check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    }
    const before = this.current;
    this.switchTo(before, next);
    if (mustAnswer) {
      const failure = await this.verify(mustAnswer);
      if (failure) {
        this.switchTo(next, before);
        const rolledBack = this.d.versions.latest();
        throw new MeterChangeError(
          422,
          `${meterKey(mustAnswer)} (${mustAnswer.name}) ${failure}; the change was rolled back${rolledBack ? ` (configuration version ${rolledBack.version} is still in force)` : ''}`,
        );
      }
    }
    return this.d.versions.append(next, by, reason, source);
  }

  private switchTo(from: readonly MeterConfig[], to: MeterConfig[]): void {
    const { removed, added } = diffMeters(from, to);
    for (const m of removed) this.d.site.removeMeter(meterKey(m));
    for (const m of added) this.d.site.addMeter(m);
    this.current = to;
  }

  /** Waits for up to `verifyCycles` complete poll cycles of the meter's bus. */
  private async verify(m: MeterConfig): Promise<string | null> {
    const key = meterKey(m);
    const bus = this.d.site.meter(key)?.bus;
    const cycles = this.d.verifyCycles ?? 2;
    const since = this.d.site.now();
    await new Promise<void>((resolve) => {
      let seen = 0;
      const done = (): void => {
        clearTimeout(guard);
        unsubscribe();
        resolve();
      };
      const unsubscribe = this.d.site.live.subscribe(({ report }) => {
        if (report.bus !== bus || report.startedAt < since) return;
        seen++;
        if (this.d.site.image.quality(key) === 'GOOD' || seen >= cycles) done();
      });
      // A stuck bus must not hang the request: give up after the cycles plus a margin.
      const guard = setTimeout(done, (cycles + 1) * this.d.site.intervalMs + 5_000);
    });
    if (this.d.site.image.quality(key) !== 'GOOD') {
      const why = this.d.site.lastErrorOf(key);
      return `did not answer within ${cycles} poll cycles${why ? ` (${why})` : ''}`;
    }
    if (!this.d.readingsStored(key)) return 'answered, but its readings were not stored';
    return null;
  }

  private serialised<T>(op: () => Promise<T>): Promise<T> {
    const run = this.busy.then(op, op);
    this.busy = run.catch(() => undefined);
    return run;
  }
}
