import { METER_TYPE_ALIASES } from '../../config/site-config.js';
import type { Phases } from '../address-plan.js';
import { InventoryError } from './error.js';

/** The meter models the inventory accepts and their phase count; profiles decide (see modelsFromProfiles). */
export interface MeterModels {
  readonly names: readonly string[];
  phasesOf(model: string): Phases | undefined;
}

const CHINT: ReadonlyMap<string, Phases> = new Map([
  ['DDSU666', 1],
  ['DTSU666', 3],
]);

export const CHINT_MODELS: MeterModels = modelsFromProfiles(CHINT);

/** Models from loaded device profiles (model -> profile with `phases`), or a plain model -> phases map. */
export function modelsFromProfiles(profiles: ReadonlyMap<string, { readonly phases: Phases } | Phases>): MeterModels {
  const phases = new Map([...profiles].map(([k, v]) => [k, typeof v === 'number' ? v : v.phases] as const));
  return { names: [...phases.keys()], phasesOf: (m) => phases.get(m) };
}

/** The canonical model name for what a person typed (any case, or the config aliases 1phase/3phase). */
export function resolveModel(models: MeterModels, text: string): string | undefined {
  const t = text.trim();
  const alias = METER_TYPE_ALIASES[t.toLowerCase()];
  return models.names.find((n) => n === alias || n.toLowerCase() === t.toLowerCase());
}

export function unknownModel(models: MeterModels, text: string): string {
  return `unknown meter type "${text}"; allowed: ${models.names.join(', ')}`;
}

/** Why a serial is not valid, or null. CHINT labels carry exactly 12 digits. */
export function serialProblem(serial: string): string | null {
  if (/^\d{12}$/.test(serial)) return null;
  const digits = serial.replace(/\D/g, '').length;
  const what = serial === '' ? 'is empty' : /^\d+$/.test(serial) ? `has ${digits} digits` : 'contains characters other than digits';
  return `serial "${serial}" ${what}; a meter serial is exactly 12 digits, as printed on the meter label (e.g. 200322016690)`;
}

export function requireSerial(serial: string): string {
  const problem = serialProblem(serial);
  if (problem) throw new InventoryError('invalid', problem);
  return serial;
}
