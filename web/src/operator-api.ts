import { alarmCounts } from './alarm-counts.js';
import { request } from './api.js';

/** GET /api/overview/operator (src/site/operator-overview.ts): what an operator asks for first. */
export interface OperatorOverview {
  site: { id: string; name: string; timezone: string };
  at: number;
  day: string;
  dayStartMs: number;
  month: string;
  energyToday: {
    site: { meter: string; importKWh: number; exportKWh: number; intervals: number; upToMs: number | null } | null;
    topCustomers: Array<{ customerId: string; name: string; mode: 'prepaid' | 'postpaid'; meters: string[]; importKWh: number }>;
  };
  offlineMeters: OfflineMeter[];
  alarms: { open: number; unacknowledged: number; bySeverity: Record<string, number> };
  arrears: { currency: string; totalMinor: number; customers: number };
  disconnectQueue: { pending: number; oldestSince: number | null };
  revenueMonth: {
    currency: string;
    month: string;
    revenueMinor: number;
    energyMinor: number;
    fixedMinor: number;
    feesMinor: number;
    billedMinor: number;
    paymentsMinor: number;
    collectionRate: number | null;
  };
}

export interface OfflineMeter {
  meter: string;
  name: string;
  bus: string;
  role: 'main' | 'customer';
  /** meter: its own meter_offline alarm; bus: the bus_down alarm of its bus stands in for it. */
  cause: 'meter' | 'bus';
  reason: string;
  since: number;
  lastReadingTs: number | null;
  alarmId: number;
}

/** GET /api/customers/:id/supply (src/billing-runtime/supply-routes.ts). */
export interface Supply {
  customer: string;
  meter: number | null;
  hasRelay: boolean;
  disconnected: boolean;
  pendingDisconnect: { id: number; state: string; createdAt: number; reason: string } | null;
  hold: { by: string; since: number; until: number | null; reason: string } | null;
}

const c = (id: string): string => `/api/customers/${encodeURIComponent(id)}`;

export const operatorApi = {
  /** The operator overview; its alarm counts also feed the nav badge (one request for both). */
  overview: (): Promise<OperatorOverview> => {
    const answer = request<OperatorOverview>('GET', '/api/overview/operator');
    alarmCounts.supply(answer.then((o) => ({ open: o.alarms.open, unacknowledged: o.alarms.unacknowledged })));
    return answer;
  },
  supply: (id: string) => request<Supply>('GET', `${c(id)}/supply`),
  disconnect: (id: string, reason: string) => request<{ supply: Supply }>('POST', `${c(id)}/disconnect`, { reason }),
  reconnect: (id: string, reason: string) => request<{ detail: string; supply: Supply }>('POST', `${c(id)}/reconnect`, { reason }),
};
