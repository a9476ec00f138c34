import { createInterface } from 'node:readline/promises';
import { UsageError } from './usage-error.js';

export interface ApiClientOptions {
  readonly url?: string;
  readonly user?: string;
}

export const API_OPTIONS_HELP = `  --url URL      the running system (default $MGOS_URL or http://127.0.0.1:8080)
  --user NAME    log in as NAME (password from $MGOS_PASSWORD or asked); or set $MGOS_TOKEN`;

/**
 * The CLI changes a running site through its HTTP API, so every change is authorised, audited and
 * applied without a restart, exactly as from the UI.
 */
export class ApiClient {
  private token: string | null = process.env.MGOS_TOKEN ?? null;
  readonly base: string;

  constructor(private readonly o: ApiClientOptions) {
    this.base = (o.url ?? process.env.MGOS_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    await this.ensureLogin();
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token ?? ''}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new Error(`cannot reach mgos at ${this.base} (${(e as Error).message}); is it running? (--url)`, { cause: e });
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as T & { error?: string }) : ({} as T & { error?: string });
    if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
    return json;
  }

  private async ensureLogin(): Promise<void> {
    if (this.token) return;
    if (!this.o.user) throw new UsageError('log in with --user NAME (or set MGOS_TOKEN)');
    const password = process.env.MGOS_PASSWORD ?? (await ask(`password for ${this.o.user}: `));
    const res = await fetch(`${this.base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.o.user, password }),
    }).catch((e: unknown) => {
      throw new Error(`cannot reach mgos at ${this.base} (${(e as Error).message}); is it running? (--url)`, { cause: e });
    });
    const json = (await res.json()) as { token?: string; error?: string };
    if (!res.ok || !json.token) throw new Error(json.error ?? 'login failed');
    this.token = json.token;
  }
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
