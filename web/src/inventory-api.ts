import { request } from './api.js';

/** The meter inventory: every physical meter from delivery to commissioning (the field teams' spreadsheet). */

/** The workflow of the pre-commissioning guide, in order, then Decommissioned (archived, final). */
export const STATUSES = ['Unassigned', 'Assigned', 'Converted', 'Shipped', 'Installed', 'Commissioned', 'Decommissioned'] as const;
export type Status = (typeof STATUSES)[number];

/** Moves the server allows (src/commissioning/inventory-status.ts): forward one step, or out of service. */
const NEXT: Record<Status, readonly Status[]> = {
  Unassigned: ['Assigned', 'Decommissioned'],
  Assigned: ['Converted', 'Decommissioned'],
  Converted: ['Shipped', 'Decommissioned'],
  Shipped: ['Installed', 'Decommissioned'],
  Installed: ['Commissioned', 'Decommissioned'],
  Commissioned: ['Decommissioned'],
  Decommissioned: [],
};

export interface Stamp {
  at: number;
  by: string | null;
}

export interface InventoryMeter {
  serial: string;
  model: string;
  site: string;
  building: string;
  bus: string | null;
  address: number | null;
  status: string;
  notes: string;
  overdue: boolean;
  overdueReason: string | null;
  /** When (and by whom) each stage was reached. */
  stages?: Partial<Record<string, Stamp>>;
  assignedAt?: number | null;
  convertedAt?: number | null;
  shippedAt?: number | null;
  installedAt?: number | null;
  commissionedAt?: number | null;
}

export interface InventoryEvent {
  at: number;
  by: string;
  action?: string;
  from: string | null;
  to: string | null;
  reason: string;
}

export interface NewInventoryMeter {
  serial: string;
  model: string;
  site: string;
  building: string;
  notes: string;
}

export interface Transition {
  to: Status;
  reason: string;
  /** Only when going to Assigned. */
  address?: number;
  bus?: string;
}

const r = (serial: string): string => `/api/inventory/${encodeURIComponent(serial)}`;

export const inventoryApi = {
  list: () => request<{ meters: InventoryMeter[] }>('GET', '/api/inventory'),
  get: (serial: string) => request<{ meter: InventoryMeter; history: InventoryEvent[] }>('GET', r(serial)),
  create: (m: NewInventoryMeter) => request<unknown>('POST', '/api/inventory', m),
  transition: (serial: string, t: Transition) => request<unknown>('POST', `${r(serial)}/transition`, t),
  import: (csv: string) => request<{ created: number; updated: number }>('POST', '/api/inventory/import', { csv }),
  csvUrl: '/api/inventory.csv',
};

/** The canonical status for what the server or a spreadsheet says, in any letter case. */
export function statusOf(text: string): Status | undefined {
  const t = text.toLowerCase();
  return STATUSES.find((s) => s.toLowerCase() === t);
}

export function nextStates(m: InventoryMeter): readonly Status[] {
  const s = statusOf(m.status);
  return s ? NEXT[s] : [];
}

/** When the meter reached `status` (the stages map, or the flat *At fields of older servers). */
export function reachedAt(m: InventoryMeter, status: Status): number | null {
  const stage = m.stages?.[status];
  if (stage) return stage.at;
  const flat: Partial<Record<Status, number | null | undefined>> = {
    Assigned: m.assignedAt,
    Converted: m.convertedAt,
    Shipped: m.shippedAt,
    Installed: m.installedAt,
    Commissioned: m.commissionedAt,
  };
  return flat[status] ?? null;
}
