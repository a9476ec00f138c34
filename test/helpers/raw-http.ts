import http from 'node:http';

export interface RawResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/**
 * One request from a chosen local address (any 127.x.y.z is loopback on Linux, so tests can be many
 * sources), with the body sent as given: a Buffer in one piece, or a generator streamed chunked.
 */
export function rawRequest(o: {
  url: string;
  method?: string;
  from?: string;
  agent?: http.Agent;
  headers?: Record<string, string>;
  body?: Buffer | string;
}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(o.url);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'POST', localAddress: o.from, agent: o.agent, headers: o.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/**
 * Streams `totalBytes` chunked (no content-length) from one reused chunk, so the sender holds no more
 * than a chunk; stops sending as soon as an answer arrives. Resolves with the answer and the bytes sent.
 */
export function streamChunked(o: { url: string; from?: string; totalBytes: number; chunk?: Buffer }): Promise<RawResult & { sentBytes: number }> {
  const chunk = o.chunk ?? Buffer.alloc(64 * 1024, 0x20);
  return new Promise((resolve, reject) => {
    const u = new URL(o.url);
    let sent = 0;
    let answered = false;
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: o.from,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), sentBytes: sent });
        });
      },
    );
    // The server closes the connection after refusing: a reset after the answer is expected, before it is not.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = (): void => {
      while (!answered && sent < o.totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    req.write('{"pad":"');
    pump();
  });
}
