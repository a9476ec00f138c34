import { request } from './api.js';

/**
 * GET /api/utility (src/csip/routes.ts, checked by zod there): the utility's limits in force with their
 * source, its events, the device's certificate, the link to the 2030.5 server and the compliance
 * figures. `{configured: false}` when the site file has no `csip:` section.
 */
export type LimitQuantity =
  'opModExpLimW' | 'opModGenLimW' | 'opModImpLimW' | 'opModLoadLimW' | 'opModMaxLimW' | 'opModStorageTargetW' | 'opModConnect' | 'opModEnergize';

export type LimitSource =
  | { kind: 'event'; eventMRID: string; programMRID: string; primacy: number }
  | { kind: 'default'; defaultMRID: string; programMRID: string; primacy: number }
  | { kind: 'fallback' };

export interface UtilityEvent {
  mRID: string;
  programMRID: string;
  primacy: number;
  state: 'scheduled' | 'active';
  startMs: number;
  endMs: number;
  values: Partial<Record<LimitQuantity, number | boolean>>;
}

export interface DayFigures {
  withinS: number;
  aboveS: number;
  unmeasuredS: number;
  excessWh: number;
  maxExcessW: number;
  maxExcessAt: number | null;
}

export interface ComplianceFigures {
  quantity: 'export' | 'import' | 'generation' | 'load';
  limit: LimitQuantity;
  limitW: number | null;
  toleranceW: number | null;
  measuredW: number | null;
  today: DayFigures;
  last7Days: DayFigures;
  lastEvent: { eventMRID: string; programMRID: string; limitW: number; startMs: number; metAt: number | null; tookMs: number | null } | null;
}

export interface ServerProblem {
  resource: string;
  message: string;
  firstSeenAt: number;
  lastSeenAt: number;
  count: number;
}

export interface UtilityStatus {
  configured: true;
  now: number;
  evaluatedAt: number | null;
  /** `value` is applied now; `ramp` while a looser limit still rises to its `target` (W/s, or %/s for opModMaxLimW; pctPerS of the rating). */
  limits: {
    quantity: LimitQuantity;
    value: number | boolean;
    source: LimitSource;
    ramp?: { target: number; ratePerS: number | null; pctPerS: number | null };
  }[];
  events: UtilityEvent[];
  device: { lfdi: string; sfdi: string; certSubject: string; certExpiresAt: number; certDaysLeft: number };
  server: {
    url: string;
    reachable: boolean;
    lastContactAt: number | null;
    lastError: string | null;
    timeOffsetMs: number;
    resources: number;
    /** Per resource, newest first; gone once the resource is read or posted successfully again. */
    problems: ServerProblem[];
  };
  compliance: ComplianceFigures[];
}

export type UtilityAnswer = UtilityStatus | { configured: false };

export const utilityApi = {
  status: () => request<UtilityAnswer>('GET', '/api/utility'),
};
