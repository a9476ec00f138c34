/** A minimal JSON-over-fetch helper for the adapters: status, parsed body and raw text. */
export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

export async function callJson(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number },
): Promise<JsonResponse> {
  const res = await fetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let body: unknown = null;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  return { status: res.status, body, text };
}

/** A bearer token cached until `refreshAt`. */
export interface CachedToken {
  readonly token: string;
  readonly refreshAtMs: number;
}
