/**
 * A load generator in its own process (its own work never blocks the system it measures): CLIENTS
 * loops fetch the given paths round-robin, each loop starting at its own path, for SECONDS. Prints one
 * JSON line: requests done and failed by path, and bytes received.
 * Usage: node dist/bench/route-clients.js URL TOKEN SECONDS CLIENTS PATHS_JSON [REQUESTS_PER_CLIENT]
 */
const [url = '', token = '', seconds = '5', clients = '4', pathsJson = '[]', perClient = 'Infinity'] = process.argv.slice(2);
const paths = JSON.parse(pathsJson) as string[];
const until = performance.now() + Number(seconds) * 1000;
const headers = { authorization: `Bearer ${token}`, 'accept-encoding': 'br, gzip' };
const done: Record<string, number> = {};
const failed: Record<string, number> = {};
let bytes = 0;

async function client(n: number): Promise<void> {
  for (let i = n; performance.now() < until && i - n < Number(perClient); i++) {
    const p = paths[i % paths.length] ?? '/api/me';
    try {
      const res = await fetch(`${url}${p}`, { headers });
      bytes += (await res.arrayBuffer()).byteLength;
      if (res.ok) done[p] = (done[p] ?? 0) + 1;
      else failed[`${p} ${res.status}`] = (failed[`${p} ${res.status}`] ?? 0) + 1;
      // A polite client waits as told when the server is busy.
      const retry = Number(res.headers.get('retry-after') ?? 0);
      if (retry > 0) await new Promise((r) => setTimeout(r, retry * 1000));
    } catch {
      failed[p] = (failed[p] ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: Number(clients) }, (_, n) => client(n)));
process.stdout.write(`${JSON.stringify({ done, failed, bytes })}\n`);
