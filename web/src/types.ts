/** Shapes of the JSON the mgos HTTP API returns (see src/api). Kept by hand: the browser build shares no code with the server. */

export type Quality = 'GOOD' | 'STALE' | 'ERROR';

export interface ChannelValue {
  value: number | null;
  ts: number;
  quality: Quality;
}

export type Values = Record<string, ChannelValue | undefined>;

export interface User {
  username: string;
  role: string;
}

export interface Site {
  id: string;
  name: string;
  timezone: string;
  pollIntervalMs: number;
}

export interface MeterCounts {
  total: number;
  online: number;
  stale: number;
  error: number;
  disabled: number;
  /** Enabled meters not read yet since start. */
  waiting?: number;
}

export interface Overview {
  ts: number;
  site: { id: string; name: string };
  grid: { meter: string | null; values: Values };
  meters: MeterCounts;
}

export interface Meter {
  key: string;
  id: number;
  name: string;
  model: string;
  bus: string;
  role: 'main' | 'customer';
  enabled: boolean;
  phases?: 1 | 3;
  /** Current-transformer ratio, when the API reports it. */
  ctRatio?: number;
  quality: Quality | null;
  /** Why the last read failed, when it did. */
  lastError?: string | null;
  values: Values;
}

export interface MeterUpdate {
  key: string;
  quality: Quality | null;
  values: Values;
}

export interface ValuesEvent {
  ts: number;
  meters: MeterUpdate[];
}

export interface History {
  channel: string;
  unit: string;
  points: Array<[number, number | null]>;
}

export interface Interval {
  start: number;
  importKWh: number | null;
  exportKWh: number | null;
  pAvgW: number | null;
  pMinW: number | null;
  pMaxW: number | null;
  vMinV: number | null;
  vMaxV: number | null;
  samples: number;
}

export interface Day {
  day: string;
  importKWh: number | null;
  exportKWh: number | null;
}

export interface Bus {
  id: string;
  transport: string;
  requests: number;
  errors: number;
  timeouts: number;
  crcErrors: number;
  bytesTx: number;
  bytesRx: number;
  /** Share of the poll interval the last cycle took (0..1); null before the first cycle. */
  utilisation: number | null;
  lastCycleMs: number | null;
  connected?: boolean;
  lastError?: string | null;
  overruns?: number;
}

/** GET /api/uplink (docs/uplink.md). */
export interface UplinkState {
  configured: boolean;
  state: 'off' | 'starting' | 'connected' | 'disconnected';
  now: number;
  queued?: number;
  backlog?: number;
  dropped?: number;
  oldestQueuedMs?: number | null;
  lastContactMs?: number | null;
}
