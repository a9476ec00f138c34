import assert from 'node:assert/strict';

export interface HttpResult {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly text: string;
  readonly headers: Headers;
}

/** A tiny JSON client for tests against a running system. */
export function httpClient(baseUrl: () => string) {
  const call = async (method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<HttpResult> => {
    const res = await fetch(`${baseUrl()}${url}`, {
      method,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // CSV and other text bodies
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const login = async (username: string, password: string): Promise<string> => {
    const r = await call('POST', '/api/login', { body: { username, password } });
    assert.equal(r.status, 200, r.text);
    return r.json.token as string;
  };
  return { call, login };
}
