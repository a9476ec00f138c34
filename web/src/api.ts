import type { Bus, Day, History, Interval, Meter, Overview, Site, UplinkState, User } from './types.js';
import { observeServerTime } from './clock.js';

/** An API call that failed; `status` 0 means the network failed, not the server. */
export class ApiError extends Error {
  /** The parsed JSON body of the failed response, when there was one (row errors of an import, say). */
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

let unauthorized: (() => void) | null = null;

/** Called when any call (other than login and me, which expect it) finds the session gone. */
export function onUnauthorized(cb: () => void): void {
  unauthorized = cb;
}

/** One JSON call; feature clients (alarms-api.ts, inventory-api.ts, ...) build on it. */
export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'No connection to the site controller');
  }
  observeServerTime(res.headers.get('x-mgos-time'));
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy error page, say): fall through with the status.
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login' && path !== '/api/me') unauthorized?.();
    const msg = typeof data === 'object' && data !== null && 'error' in data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg, data);
  }
  return data as T;
}

export const q = (params: Record<string, string | number>): string => new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();

const m = (key: string): string => `/api/meters/${encodeURIComponent(key)}`;

export const api = {
  login: (username: string, password: string) => request<{ user: User }>('POST', '/api/login', { username, password }),
  logout: () => request<unknown>('POST', '/api/logout', {}),
  me: () => request<{ user: User }>('GET', '/api/me'),
  site: () => request<Site>('GET', '/api/site'),
  overview: () => request<Overview>('GET', '/api/overview'),
  meters: () => request<{ meters: Meter[] }>('GET', '/api/meters'),
  meter: (key: string) => request<Meter>('GET', m(key)),
  history: (key: string, channel: string, from: number, to: number) => request<History>('GET', `${m(key)}/history?${q({ channel, from, to })}`),
  intervals: (key: string, from: number, to: number) => request<{ intervals: Interval[] }>('GET', `${m(key)}/intervals?${q({ from, to })}`),
  daily: (key: string, from: number, to: number) => request<{ days: Day[] }>('GET', `${m(key)}/daily?${q({ from, to })}`),
  buses: () => request<{ buses: Bus[] }>('GET', '/api/buses'),
  uplink: () => request<UplinkState>('GET', '/api/uplink'),
  /** readings = every poll, in the field logger's columns; intervals = the day's 15-minute figures. */
  csvUrl: (key: string, date: string, kind: 'readings' | 'intervals' = 'readings') => `${m(key)}/csv?${q(kind === 'readings' ? { date } : { date, kind })}`,
};
