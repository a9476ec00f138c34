import type { Snapshot } from './snapshot.js';

/**
 * Criticality classes, most critical first (docs/ems-modes.md#criticality; docs/architecture.md
 * "Controllers propose, the resolver decides"). The resolver applies them in this order;
 * configuration order never decides.
 */
export const CRITICALITY = ['safety', 'supply-quality', 'business', 'optimisation'] as const;
export type Criticality = (typeof CRITICALITY)[number];

interface ProposalBase {
  /** The decision variable: a command channel such as `ess0/SetActivePower` or `pv0/ActivePowerLimit_L2`. */
  readonly target: string;
  readonly criticality: Criticality;
  /** Which controller (or the safety envelope, or an operator) proposed it. */
  readonly source: string;
  /** Why, in words a person on site understands. */
  readonly why: string;
}

/** A constraint: the variable must lie within [min, max] (either side may be open). */
export interface Bound extends ProposalBase {
  readonly kind: 'bound';
  readonly min?: number;
  readonly max?: number;
}

/** A wish: the variable should take this value, within what more critical classes allow. */
export interface Target extends ProposalBase {
  readonly kind: 'target';
  readonly value: number;
}

/**
 * An addition: whatever the classes decided, the variable moves by `value` more (frequency droop on top of
 * self-consumption or peak shaving). The sum stays inside what this class and the more critical ones allow;
 * an offset of a class below the one whose target pinned the value is overruled (docs/architecture.md).
 */
export interface Offset extends ProposalBase {
  readonly kind: 'offset';
  readonly value: number;
}

export type Proposal = Bound | Target | Offset;

/** Every controller says what it did: never a silent "Ok". */
export type ControllerStatus =
  | { readonly state: 'ok'; readonly detail: string }
  | { readonly state: 'idle'; readonly reason: string }
  | { readonly state: 'failed'; readonly reason: string };

export interface ControllerResult<S> {
  readonly proposals: readonly Proposal[];
  readonly state: S;
  readonly status: ControllerStatus;
}

/** A controller: pure, no I/O, no clock of its own. The cycle passes the time. */
export type Controller<C, S> = (snapshot: Snapshot, config: C, state: S, nowMs: number) => ControllerResult<S>;

export const ok = <S>(proposals: readonly Proposal[], state: S, detail: string): ControllerResult<S> => ({ proposals, state, status: { state: 'ok', detail } });
export const idle = <S>(state: S, reason: string, proposals: readonly Proposal[] = []): ControllerResult<S> => ({
  proposals,
  state,
  status: { state: 'idle', reason },
});
export const failed = <S>(state: S, reason: string): ControllerResult<S> => ({ proposals: [], state, status: { state: 'failed', reason } });

export const fmtW = (w: number): string => `${Math.round(w)} W`;
