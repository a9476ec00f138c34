/**
 * A load generator in its own process (so its own work never blocks the system it measures):
 * CLIENTS loops hammer history, intervals, daily energy and the day's CSV, and STREAMS clients hold
 * the SSE stream open. Prints one JSON line: requests done and failed by kind.
 * Usage: node dist/bench/load-clients.js URL TOKEN SECONDS CLIENTS STREAMS METER
 */
const [url = '', token = '', seconds = '30', clients = '50', streams = '5', meter = 'meter2'] = process.argv.slice(2);
const until = performance.now() + Number(seconds) * 1000;
const headers = { authorization: `Bearer ${token}` };
const done: Record<string, number> = {};
const failed: Record<string, number> = {};

function pathFor(i: number, now: number): [string, string] {
  const day = new Date(now).toISOString().slice(0, 10);
  switch (i % 4) {
    case 0:
      return ['raw week', `/api/meters/${meter}/history?channel=ActivePower&from=${now - 7 * 86_400_000}&to=${now}`];
    case 1:
      return ['intervals week', `/api/meters/${meter}/intervals?from=${now - 7 * 86_400_000}&to=${now}`];
    case 2:
      return ['daily month', `/api/meters/${meter}/daily?from=${now - 31 * 86_400_000}&to=${now}`];
    default:
      return ['csv day', `/api/meters/${meter}/csv?date=${day}`];
  }
}

async function client(n: number): Promise<void> {
  for (let i = n; performance.now() < until; i++) {
    const [kind, path] = pathFor(i, Date.now());
    try {
      const res = await fetch(`${url}${path}`, { headers });
      await res.arrayBuffer();
      if (res.ok) done[kind] = (done[kind] ?? 0) + 1;
      else failed[`${kind} ${res.status}`] = (failed[`${kind} ${res.status}`] ?? 0) + 1;
      // A polite client waits as told when the server is busy.
      const retry = Number(res.headers.get('retry-after') ?? 0);
      if (retry > 0) await new Promise((r) => setTimeout(r, retry * 1000));
    } catch {
      failed[kind] = (failed[kind] ?? 0) + 1;
    }
  }
}

async function stream(): Promise<void> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), Math.max(0, until - performance.now()));
  try {
    const res = await fetch(`${url}/api/stream`, { headers, signal: ac.signal });
    for await (const chunk of res.body ?? []) done['sse bytes'] = (done['sse bytes'] ?? 0) + (chunk as Uint8Array).length;
  } catch {
    // aborted at the end of the run
  } finally {
    clearTimeout(t);
  }
}

await Promise.all([...Array.from({ length: Number(clients) }, (_, n) => client(n)), ...Array.from({ length: Number(streams) }, () => stream())]);
process.stdout.write(`${JSON.stringify({ done, failed })}\n`);
