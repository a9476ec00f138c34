import { q, request } from './api.js';
import type { ChannelValue } from './types.js';

/**
 * The edge cycle's API (src/edge/routes.ts): cycle health, modes, L2 proposals, overrides,
 * escalations, the audit log and the energy flow. Sign conventions (src/edge/snapshot.ts): grid
 * W import positive; battery W discharge positive (negative = charging); PV and generator W
 * production positive.
 */
export type ControllerStatus = { state: 'ok'; detail: string } | { state: 'idle'; reason: string } | { state: 'failed'; reason: string };

/** One controller as the site file's control.controllers holds it (the mode POST takes the whole list). */
export type ControllerConfig = { kind: string; id: string; enabled?: boolean } & Record<string, unknown>;

export interface ControllerState {
  id: string;
  kind: string;
  criticality: string;
  assets: string[];
  status: ControllerStatus;
  stopped: boolean;
  lastMs: number | null;
  config: ControllerConfig | null;
}

export interface Decision {
  target: string;
  value: number | null;
  outcome: string;
  authority?: string;
  by?: string;
  why: string;
  chosenBy?: string;
  boundBy?: string[];
  overruled?: string[];
  /** What frequency droop added to the value (W). */
  offset?: number;
}

export interface Recommendation {
  target: string;
  asset: string;
  capability: string;
  value: number;
  why: string;
  since: number;
  at: number;
}

export interface Override {
  id: number;
  asset: string;
  target: string;
  value: number;
  by: string;
  untilMs: number;
  remainingS: number;
  reason: string;
}

export interface Escalation {
  capability: string;
  asset: string;
  sinceMs: number;
  why: string;
}

export interface Stat {
  p50: number;
  p99: number;
  max: number;
}

export interface ControlStatus {
  now: number;
  periodMs: number;
  budgetMs: number;
  timing: { cycles: number; overruns: number; durationMs: Stat; jitterMs: Stat };
  controllers: ControllerState[];
  modes: Record<string, string>;
  eStop: boolean;
  safe: Array<{ component: string; why: string }>;
  lastCycle: { cycle: number; at: number; durationMs: number; jitterMs: number; decisions: Decision[] } | null;
  recommendations: Recommendation[];
  overrides: Override[];
  approvals: Array<{ proposalId: number; by: string; target: string; value: number; atMs: number; expiresAtMs: number }>;
  escalations: Escalation[];
  autonomy: Array<{ capability: string; asset: string; level: string; default: string }>;
  assets: Array<{ component: string; kind: string }>;
  pendingProposals: number;
}

export interface ControlProposal {
  id: number;
  createdAt: number;
  expiresAt: number;
  asset: string;
  capability: string;
  target: string;
  value: number;
  why: string;
  state: 'pending' | 'approved' | 'rejected' | 'expired';
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
}

export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  action: string;
  proposalId: number | null;
  customer: string | null;
  meter: number | null;
  detail: string;
}

export type Verification = { ok: true; entries: number; head: string } | { ok: false; entries: number; at: number; why: string };

export type Shown = ChannelValue | null;
export type PhaseName = 'L1' | 'L2' | 'L3';
export interface PowerFlow {
  component: string;
  total: Shown;
  phases: Record<PhaseName, Shown>;
}

export interface Flow {
  now: number;
  signs: Record<string, string>;
  /** `frequency`: the grid meter's Frequency channel (Hz), null when it has none. */
  grid: (PowerFlow & { frequency?: Shown }) | null;
  batteries: Array<
    PowerFlow & { kind: string; maxChargeW: number; maxDischargeW: number; soc: Shown; allowedChargeW: Shown; allowedDischargeW: Shown; capacityWh: Shown }
  >;
  pv: Array<PowerFlow & { ratedW: number; limitW: Shown }>;
  generators: Array<PowerFlow & { running: Shown }>;
  load: { total: Shown; phases: Record<PhaseName, Shown>; derived: string } | null;
}

export const controlApi = {
  status: () => request<ControlStatus>('GET', '/api/control'),
  flow: () => request<Flow>('GET', '/api/control/flow'),
  setMode: (controllers: ControllerConfig[], reason: string) =>
    request<{ controllers: ControllerConfig[] }>('POST', '/api/control/mode', { controllers, reason }),
  proposals: (state?: ControlProposal['state']) => request<{ proposals: ControlProposal[] }>('GET', `/api/control/proposals${state ? `?${q({ state })}` : ''}`),
  approve: (id: number) => request<{ proposal: ControlProposal }>('POST', `/api/control/proposals/${id}/approve`, {}),
  reject: (id: number, reason: string) => request<{ proposal: ControlProposal }>('POST', `/api/control/proposals/${id}/reject`, { reason }),
  override: (o: { asset: string; setpoint?: number; mode?: 'charge' | 'discharge' | 'idle'; minutes: number; reason: string }) =>
    request<{ override: { id: number; asset: string; targets: Array<{ target: string; value: number }>; untilMs: number } }>(
      'POST',
      '/api/control/override',
      o,
    ),
  release: (asset: string, reason: string) => request<{ released: boolean }>('DELETE', `/api/control/override/${encodeURIComponent(asset)}?${q({ reason })}`),
  confirm: (capability: string, asset: string) => request<{ confirmed: boolean }>('POST', '/api/control/escalations/confirm', { capability, asset }),
  audit: (o: { from?: number; to?: number; beforeId?: number; limit: number; verify?: boolean }) => {
    const p: Record<string, number | string> = { limit: o.limit };
    if (o.from !== undefined) p['from'] = o.from;
    if (o.to !== undefined) p['to'] = o.to;
    if (o.beforeId !== undefined) p['beforeId'] = o.beforeId;
    if (o.verify) p['verify'] = '1';
    return request<{ entries: AuditEntry[]; total: number; before?: number; verification?: Verification }>('GET', `/api/control/audit?${q(p)}`);
  },
};

const PHASE = /_(L[123])$/;

/**
 * A command in words, with the sign convention spelled out: `ess0/SetActivePower_L1 = -500` is
 * "charge ess0 at 0.50 kW on L1".
 */
export function describeCommand(target: string, value: number | null): string {
  const [asset = target, channel = ''] = target.split('/');
  const phase = PHASE.exec(channel)?.[1];
  const on = phase ? ` on ${phase}` : '';
  if (value === null) return `${target}: nothing`;
  const kw = (w: number): string => `${(Math.abs(w) / 1000).toFixed(2)} kW`;
  if (/^SetActivePower/.test(channel))
    return value < 0 ? `charge ${asset} at ${kw(value)}${on}` : value > 0 ? `discharge ${asset} at ${kw(value)}${on}` : `hold ${asset} idle (0 W)${on}`;
  if (/^ActivePowerLimit/.test(channel)) return `limit ${asset} to ${kw(value)}${on}`;
  if (channel === 'SetRunning') return value >= 1 ? `start ${asset}` : `stop ${asset}`;
  if (channel === 'SetClosed') return value >= 1 ? `close relay ${asset}` : `open relay ${asset}`;
  if (channel === 'SetChargeLimit') return value > 0 ? `limit EV charging at ${asset} to ${kw(value)}` : `pause EV charging at ${asset}`;
  return `${target} = ${value}`;
}
