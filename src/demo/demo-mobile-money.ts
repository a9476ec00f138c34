import { randomBytes } from 'node:crypto';
import { AirtelSandbox } from '../payments/sandbox/airtel.js';

/**
 * The demo's mobile money: the local Airtel Money sandbox (src/payments/sandbox) in this process on a
 * loopback port, configured as the site's `payments.airtel`, so the demo's mobile-money payments take
 * the real path: our adapter over HTTP, the provider's callback to our public callback route, the status
 * re-query, the ledger. Airtel because it is Uganda's and takes UGX, the demo's currency; the MTN
 * sandbox, like MTN's own, takes EUR only.
 *
 * The sandbox has no people behind its phones: a simulated payer approves every request after about
 * `approveAfterMs` (counted in timer ticks, not read from a clock), so a payment started in the UI
 * completes by itself. Those for which the demo seeding decides itself are left to it.
 */
export interface DemoMobileMoney {
  /** For the site configuration (payments.airtel). */
  readonly airtel: { baseUrl: string; clientId: string; clientSecret: string; country: string; currency: string };
  readonly sandbox: AirtelSandbox;
  /** Once the HTTP server listens: where the sandbox sends its callbacks. */
  setSiteUrl(url: string): void;
  /** The payer approves this request now; resolves when the callback was delivered. */
  approve(transactionId: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDemoMobileMoney(opts: { approveAfterMs?: number } = {}): Promise<DemoMobileMoney> {
  const creds = { clientId: 'demo-client', clientSecret: randomBytes(16).toString('hex') };
  // Until the site's URL is known, callbacks would go nowhere; the status re-query still settles them.
  const sandbox = new AirtelSandbox({ ...creds, callbackUrl: 'http://127.0.0.1:9/unset' });
  const baseUrl = await sandbox.start();
  const tickMs = 500;
  const ticksToApprove = Math.max(1, Math.round((opts.approveAfterMs ?? 3000) / tickMs));
  const waiting = new Map<string, number>();
  const manual = new Set<string>();
  const timer = setInterval(() => {
    for (const [id, tx] of sandbox.txs) {
      if (tx.status !== 'TIP' || manual.has(id)) {
        waiting.delete(id);
        continue;
      }
      const n = (waiting.get(id) ?? 0) + 1;
      waiting.set(id, n);
      if (n >= ticksToApprove) {
        waiting.delete(id);
        sandbox.decide(id, 'TS');
      }
    }
  }, tickMs);
  timer.unref();
  return {
    airtel: { baseUrl, ...creds, country: 'UG', currency: 'UGX' },
    sandbox,
    setSiteUrl: (url) => {
      sandbox.opts.callbackUrl = `${url}/api/payments/callbacks/airtel`;
    },
    approve: async (id) => {
      manual.add(id);
      const tx = sandbox.txs.get(id);
      if (tx?.status === 'TIP') sandbox.decide(id, 'TS');
      await sandbox.settle();
    },
    close: async () => {
      clearInterval(timer);
      await sandbox.stop();
    },
  };
}
