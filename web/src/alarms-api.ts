import { q, request } from './api.js';

export type AlarmState = 'open' | 'cleared';

export interface Acknowledgement {
  by: string;
  at: number;
  note: string;
}

export interface Alarm {
  id: number;
  rule: string;
  /** What the alarm is about: a meter (meter12), one of its channels (meter12/Voltage_L1), a bus, the site. */
  subject: string;
  severity: string;
  state: AlarmState;
  message: string;
  raisedAt: number;
  clearedAt: number | null;
  acknowledged: Acknowledgement | null;
}

export interface AlarmEvent {
  at: number;
  kind: string;
  by: string;
  message: string | null;
}

const a = (id: string): string => `/api/alarms/${encodeURIComponent(id)}`;

export const alarmsApi = {
  /** `meter` narrows to one meter's alarms (its channels' included). */
  list: (state: AlarmState | 'all', meter?: string) => request<{ alarms: Alarm[] }>('GET', `/api/alarms?${q(meter ? { state, meter } : { state })}`),
  get: (id: string) => request<Alarm & { events: AlarmEvent[] }>('GET', a(id)),
  /** The note is optional; an empty one is left out rather than sent blank. */
  ack: (id: string, note: string) => request<Alarm>('POST', `${a(id)}/ack`, note ? { note } : {}),
};

const SEVERITY_RANK: Record<string, number> = { critical: 0, major: 1, warning: 2, minor: 3, info: 4 };

/** Open before cleared, unacknowledged first, then the most severe, then the newest. */
export function sortAlarms(alarms: readonly Alarm[]): Alarm[] {
  return [...alarms].sort(
    (x, y) =>
      Number(x.state !== 'open') - Number(y.state !== 'open') ||
      Number(x.acknowledged !== null) - Number(y.acknowledged !== null) ||
      (SEVERITY_RANK[x.severity.toLowerCase()] ?? 5) - (SEVERITY_RANK[y.severity.toLowerCase()] ?? 5) ||
      y.raisedAt - x.raisedAt,
  );
}

export const needsAttention = (a: Alarm): boolean => a.state === 'open' && a.acknowledged === null;
