/** How a sandbox delivers callbacks: several times, late, with either method. Shared by the sandboxes only. */
export interface DeliveryOptions {
  readonly times?: number;
  readonly delayMs?: number;
  readonly method?: 'POST' | 'PUT' | 'GET';
}

export interface Delivery {
  readonly status: number;
  readonly body: string;
}

export async function deliver(url: string, body: unknown, opts: DeliveryOptions = {}): Promise<Delivery[]> {
  if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
  const out: Delivery[] = [];
  for (let i = 0; i < (opts.times ?? 1); i++) {
    const method = opts.method ?? 'POST';
    try {
      const res = await fetch(url, {
        method,
        headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      out.push({ status: res.status, body: await res.text() });
    } catch (err) {
      out.push({ status: 0, body: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

export const sandboxUrl = (address: string | { port: number } | null): string => {
  if (address === null || typeof address === 'string') throw new Error('sandbox is not listening on TCP');
  return `http://127.0.0.1:${address.port}`;
};
