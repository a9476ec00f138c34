import { request } from './api.js';

/** A meter model this controller has a profile for (GET /api/profiles; profiles are data, src/api/profile-routes.ts). */
export interface MeterModel {
  readonly model: string;
  readonly manufacturer: string;
  readonly description: string;
  readonly phases: 1 | 3;
  /** The `type` values that pick it: its short alias (`1phase`) first when it has one, then the model. */
  readonly types: readonly string[];
  readonly channels: readonly string[];
}

let models: Promise<MeterModel[]> | null = null;

/** The meter models, fetched once per page load (a failed fetch is tried again on the next call). */
export function meterModels(): Promise<MeterModel[]> {
  models ??= request<{ profiles: MeterModel[] }>('GET', '/api/profiles').then(
    (r) => r.profiles,
    (err: unknown) => {
      models = null;
      throw err;
    },
  );
  return models;
}

/** The model a type name (alias or model, any case) picks. */
export function modelFor(list: readonly MeterModel[], type: string | undefined): MeterModel | undefined {
  const t = type?.toUpperCase();
  return t ? list.find((m) => m.types.some((x) => x.toUpperCase() === t)) : undefined;
}

export const phaseWord = (m: MeterModel): string => (m.phases === 1 ? 'single-phase' : 'three-phase');

/** Fills a select with one option per model; keeps `chosen` (a type name) selected when it names one. */
export function fillModels(
  sel: HTMLSelectElement,
  list: readonly MeterModel[],
  option: (m: MeterModel) => readonly [value: string, label: string],
  chosen?: string,
): void {
  const keep = modelFor(list, chosen ?? sel.value);
  sel.replaceChildren(
    ...list.map((m) => {
      const [value, label] = option(m);
      return Object.assign(document.createElement('option'), { value, textContent: label });
    }),
  );
  if (keep) sel.value = option(keep)[0];
}
