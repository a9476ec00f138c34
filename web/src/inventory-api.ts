import { request } from './api.js';

/** The meter inventory: every physical meter from delivery to commissioning (the field teams' spreadsheet). */

/** The workflow of the pre-commissioning guide, in order. */
export const STATUSES = ['unassigned', 'assigned', 'converted', 'shipped', 'installed', 'commissioned'] as const;

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
  assignedAt: number | null;
  convertedAt: number | null;
  shippedAt: number | null;
  installedAt: number | null;
  commissionedAt: number | null;
  /** The next states the server allows, when it says. */
  next?: string[];
}

export interface InventoryEvent {
  at: number;
  by: string;
  from: string | null;
  to: string;
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
  to: string;
  reason: string;
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

/** The states a record may move to: the server's list when it gives one, else the next step of the workflow. */
export function nextStates(m: InventoryMeter): string[] {
  if (m.next) return m.next;
  const i = STATUSES.findIndex((s) => s === m.status.toLowerCase());
  const next = i >= 0 ? STATUSES[i + 1] : undefined;
  return next ? [next] : [];
}
