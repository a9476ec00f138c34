import { q, request } from './api.js';
import type { Quality, Values } from './types.js';

/** Adding, changing and removing meters on the running site, and the configuration versions this creates. */

/** A profile's type name: its alias (`1phase`) or its model (`DDSU666`); the list comes from /api/profiles. */
export type MeterType = string;
export type MeterRole = 'main' | 'customer';

export interface NewMeter {
  id: number;
  name: string;
  type: MeterType;
  bus: string;
  role?: MeterRole;
  ctRatio?: number;
  /** Goes into the configuration history. */
  reason?: string;
}

export interface AddedMeter {
  meter: { key: string; id: number; name: string; quality: Quality | null; values: Values };
  verified: boolean;
  configVersion: number;
}

export interface MeterPatch {
  enabled?: boolean;
  name?: string;
  ctRatio?: number;
}

export interface ConfigVersion {
  version: number;
  /** Epoch milliseconds. */
  at: number;
  by: string;
  reason: string;
  /** How many meters that version has (or the list itself). */
  meters: number | unknown[];
  source?: string;
}

const m = (key: string): string => `/api/meters/${encodeURIComponent(key)}`;

export const meterConfigApi = {
  /** The next free address of the plan on `bus` (the first bus when none is given); 409 when the plan is full. */
  suggestAddress: (bus: string | undefined, phases: 1 | 3) =>
    request<{ address: number }>('GET', `/api/address-plan/suggest?${q(bus ? { bus, phases } : { phases })}`),
  /** Takes about two poll cycles: the server waits for the new meter to answer before it answers. */
  add: (meter: NewMeter) => request<AddedMeter>('POST', '/api/meters', meter),
  /** `reason` goes into the configuration history ("disabled", "renamed to house_07b"). */
  patch: (key: string, patch: MeterPatch, reason: string) => request<unknown>('PATCH', m(key), { ...patch, reason }),
  remove: (key: string, reason: string) => request<unknown>('DELETE', `${m(key)}?${q({ reason })}`),
  versions: () => request<{ versions: ConfigVersion[] }>('GET', '/api/config/versions'),
  restore: (version: number) => request<unknown>('POST', `/api/config/versions/${version}/restore`, {}),
};
