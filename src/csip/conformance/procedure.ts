import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from '#zod';
import { fromRoot } from '../../util/paths.js';

/**
 * A CACTUS client test procedure (conformance/cactus/SCHEMA-README.md) read from YAML into checked
 * types. Names of actions, checks and events are checked against the schema's full lists
 * (definitions/*.py) so a misspelt one is an error here; whether the interpreter implements them is
 * decided when it runs (unsupported ones are reported by name, never passed).
 */

export const PROCEDURES_DIR = fromRoot('conformance', 'cactus', 'procedures');

export const ACTION_NAMES = [
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
  'create-tariff-profile',
  'create-rate-component',
  'create-time-tariff-interval',
  'cancel-time-tariff-intervals',
  'delete-rate-component',
  'remove-function-set-assignment',
  'create-wellknown-route',
  'add-proxy-route',
] as const;

export const CHECK_NAMES = [
  'all-steps-complete',
  'all-notifications-transmitted',
  'end-device-contents',
  'end-device-count',
  'der-settings-contents',
  'der-capability-contents',
  'der-status-contents',
  'readings-voltage',
  'readings-site-active-power',
  'readings-site-reactive-power',
  'readings-der-active-power',
  'readings-der-reactive-power',
  'readings-der-stored-energy',
  'subscription-contents',
  'response-contents',
  'all-polls-at-correct-time',
  'resource-requests',
  'price-response-contents',
] as const;

export const EVENT_NAMES = ['GET-request-received', 'POST-request-received', 'PUT-request-received', 'DELETE-request-received', 'wait', 'proceed'] as const;

const params = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((v) => v ?? {});

export const CheckSchema = z.object({ type: z.enum(CHECK_NAMES), parameters: params });
export const ActionSchema = z.object({ type: z.enum(ACTION_NAMES), parameters: params });
export const EventSchema = z.object({
  type: z.enum(EVENT_NAMES),
  parameters: params,
  checks: z.array(CheckSchema).nullish(),
});
export const StepSchema = z.object({
  event: EventSchema,
  actions: z
    .array(ActionSchema)
    .nullish()
    .transform((v) => v ?? []),
  instructions: z.array(z.string()).nullish(),
});

export const ProcedureSchema = z.object({
  Description: z.string(),
  Category: z.string(),
  Classes: z.array(z.string()).nullish(),
  TargetVersions: z.array(z.string()).nullish(),
  Preconditions: z
    .object({
      immediate_start: z.boolean().nullish(),
      init_actions: z
        .array(ActionSchema)
        .nullish()
        .transform((v) => v ?? []),
      actions: z
        .array(ActionSchema)
        .nullish()
        .transform((v) => v ?? []),
      checks: z
        .array(CheckSchema)
        .nullish()
        .transform((v) => v ?? []),
      instructions: z.array(z.string()).nullish(),
    })
    .nullish()
    .transform((v) => v ?? { immediate_start: false, init_actions: [], actions: [], checks: [], instructions: null }),
  Criteria: z
    .object({
      checks: z
        .array(CheckSchema)
        .nullish()
        .transform((v) => v ?? []),
    })
    .nullish()
    .transform((v) => v ?? { checks: [] }),
  Steps: z.record(z.string(), StepSchema),
});

export type Procedure = z.output<typeof ProcedureSchema> & { readonly id: string };
export type Action = z.output<typeof ActionSchema>;
export type Check = z.output<typeof CheckSchema>;
export type Step = z.output<typeof StepSchema>;

/** Reads one procedure file; the error names the file and the field. */
export function loadProcedure(file: string): Procedure {
  const r = ProcedureSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${file}: ${(i?.path ?? []).join('.')}: ${i?.message ?? 'invalid'}; fix the procedure or add the name to procedure.ts`);
  }
  return { ...r.data, id: path.basename(file).replace(/\.ya?ml$/, '') };
}

export function loadProcedures(dir = PROCEDURES_DIR): Procedure[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => loadProcedure(path.join(dir, f)));
}

/** Every action, check and event of a procedure with where it sits. */
export function usages(p: Procedure): { actions: Action[]; checks: Check[]; events: string[] } {
  const steps = Object.values(p.Steps);
  return {
    actions: [...p.Preconditions.init_actions, ...p.Preconditions.actions, ...steps.flatMap((s) => s.actions)],
    checks: [...p.Preconditions.checks, ...p.Criteria.checks, ...steps.flatMap((s) => s.event.checks ?? [])],
    events: steps.map((s) => s.event.type),
  };
}

/** How often each action, check and event name appears across the procedures, most common first. */
export function countUsages(ps: readonly Procedure[]): { actions: [string, number][]; checks: [string, number][]; events: [string, number][] } {
  const count = (names: string[]): [string, number][] => {
    const m = new Map<string, number>();
    for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  };
  const all = ps.map(usages);
  return {
    actions: count(all.flatMap((u) => u.actions.map((a) => a.type))),
    checks: count(all.flatMap((u) => u.checks.map((c) => c.type))),
    events: count(all.flatMap((u) => u.events)),
  };
}
