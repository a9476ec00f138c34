import { q, request } from './api.js';

/**
 * The one approvals queue (src/governance/approvals.ts): every capability's proposals, the edge
 * cycle's (`control-N`: battery, PV, generator, relays) and supply-disconnect's (`supply-N`: billing's
 * disconnects and reconnects), with their criticality class, asset, expiry and who decided them.
 */
export type Criticality = 'safety' | 'supply-quality' | 'business' | 'optimisation';

export interface ApprovalItem {
  id: string;
  source: string;
  sourceId: number;
  capability: string;
  criticality: Criticality;
  asset: string;
  /** The command channel and value: a relay's SetClosed 0 opens it (a disconnect). */
  target: string;
  value: number;
  state: string;
  createdAt: number;
  expiresAt: number | null;
  why: string;
  customer: string | null;
  /** A person, `policy` (a rule ran it without a person), `system` (expired, withdrawn), or null while pending. */
  decidedBy: string | null;
  decidedAt: number | null;
}

export interface EscalationItem {
  source: string;
  capability: string;
  asset: string;
  sinceMs: number;
  why: string;
}

export const approvalsApi = {
  list: (state?: 'pending') => request<{ proposals: ApprovalItem[] }>('GET', `/api/approvals${state ? `?${q({ state })}` : ''}`),
  approve: (id: string) => request<{ proposal: ApprovalItem }>('POST', `/api/approvals/${encodeURIComponent(id)}/approve`),
  reject: (id: string, reason: string) => request<{ proposal: ApprovalItem }>('POST', `/api/approvals/${encodeURIComponent(id)}/reject`, { reason }),
  escalations: () => request<{ escalations: EscalationItem[] }>('GET', '/api/escalations'),
  confirm: (capability: string, asset: string) => request<{ confirmed: boolean }>('POST', '/api/escalations/confirm', { capability, asset }),
};
