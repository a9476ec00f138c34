import { ApprovalError, type ApprovalItem, type ApprovalSource } from '../governance/approvals.js';
import { CAPABILITY_CLASS } from '../governance/actions.js';
import type { ControlProposal } from './control-governance.js';
import { ControlError, type ControlRuntime } from './control-runtime.js';

const item = (p: ControlProposal): ApprovalItem => ({
  id: `control-${p.id}`,
  source: 'control',
  sourceId: p.id,
  capability: p.capability,
  criticality: CAPABILITY_CLASS[p.capability],
  asset: p.asset,
  target: p.target,
  value: p.value,
  state: p.state,
  createdAt: p.createdAt,
  expiresAt: p.expiresAt,
  why: p.state === 'rejected' && p.reason ? `${p.why} (rejected: ${p.reason})` : p.why,
  customer: null,
  decidedBy: p.decidedBy,
  decidedAt: p.decidedAt,
});

/** The edge cycle's L2 proposals and escalations in the one approvals queue (src/governance/approvals.ts). */
export function controlApprovalSource(control: ControlRuntime): ApprovalSource {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ControlError) throw new ApprovalError(e.message, e.status);
      throw e;
    }
  };
  return {
    source: 'control',
    list: (state) =>
      control.proposals
        .list()
        .filter((p) => state === undefined || p.state === state)
        .map(item),
    approve: (id, by) => Promise.resolve(wrap(() => item(control.approve(id, by)))),
    reject: (id, by, reason) => Promise.resolve(wrap(() => item(control.reject(id, by, reason)))),
    escalations: () =>
      [...control.gov.escalations].map(([k, e]) => ({
        source: 'control',
        capability: k.split('|')[0] ?? '',
        asset: k.split('|')[1] ?? '',
        sinceMs: e.sinceMs,
        why: e.why,
      })),
    confirm: (capability, asset, by) => control.confirm(capability, asset, by),
  };
}
