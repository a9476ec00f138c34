/** The encodings the server compresses with, in order of preference (as in api/server.ts). */
export const ENCODINGS = ['br', 'gzip'] as const;
export type Encoding = (typeof ENCODINGS)[number] | 'identity';

/**
 * The encoding to answer an Accept-Encoding header with: the first of ENCODINGS the client accepts
 * (q > 0, by name or `*`), else identity. Lets a worker compress a body before the request thread sends it.
 */
export function negotiateEncoding(header: string | undefined): Encoding {
  const q = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part
      .toLowerCase()
      .split(';')
      .map((p) => p.trim());
    if (!name) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  for (const e of ENCODINGS) if ((q.get(e) ?? q.get('*') ?? 0) > 0) return e;
  return 'identity';
}
