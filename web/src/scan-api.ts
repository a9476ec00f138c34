import { request } from './api.js';

/** Bus discovery: ask every address in a range who is there. */

export type ScanState = 'running' | 'done' | 'cancelled' | 'failed';
/** missing = configured at this address but silent during the scan. */
export type FoundStatus = 'known' | 'new' | 'duplicate' | 'unidentified' | 'missing';

export interface Found {
  address: number;
  model: string | null;
  status: FoundStatus;
  /** The configured meter at this address, e.g. "meter7 (house_07)". */
  configuredAs: string | null;
  detail: string;
}

/** A meter the scan found that is not configured yet, ready for the add-meter form. */
export interface Proposal {
  id: number;
  name: string;
  type: string;
  bus: string;
  /** Set when the Modbus address differs from the proposed id. */
  address?: number;
  note?: string;
}

export interface Scan {
  id: string;
  bus: string;
  from: number;
  to: number;
  state: ScanState;
  scanned: number;
  total: number;
  found: Found[];
  proposals: Proposal[];
  error?: string | null;
}

const s = (id: string): string => `/api/scans/${encodeURIComponent(id)}`;

export const scanApi = {
  start: (bus: string, from: number, to: number) => request<{ scanId: string }>('POST', `/api/buses/${encodeURIComponent(bus)}/scan`, { from, to }),
  get: (id: string) => request<Scan>('GET', s(id)),
  cancel: (id: string) => request<unknown>('POST', `${s(id)}/cancel`, {}),
};
