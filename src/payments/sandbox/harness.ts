import type Database from 'better-sqlite3';
import Fastify from 'fastify';
import { HttpError, RouteRegistry } from '../../api/route.js';
import { UserStore } from '../../auth/user-store.js';
import type { LedgerPort, PaymentCredit } from '../ledger-port.js';
import type { PaymentProcessor } from '../processor.js';
import type { EnergyFor } from '../provider.js';
import { registerPaymentRoutes } from '../routes.js';
import { sandboxUrl } from './deliver.js';

/**
 * The ledger port's test double. It honours the port's contract (idempotent by paymentId) and ASSERTS that the
 * processor never tries to credit one payment with different figures or one provider transaction twice.
 */
export class RecordingLedger implements LedgerPort {
  readonly credits = new Map<string, PaymentCredit>();
  repeats = 0;
  /** Records the next credit, then throws: a crash after the ledger and before the processor's own commit. */
  crashAfterNext = false;

  creditPayment(p: PaymentCredit): void {
    const prev = this.credits.get(p.paymentId);
    if (prev) {
      if (prev.grossMinor !== p.grossMinor || prev.feeMinor !== p.feeMinor || prev.account !== p.account || prev.providerTxId !== p.providerTxId)
        throw new Error(`payment ${p.paymentId} credited again with different figures`);
      this.repeats++;
      return;
    }
    for (const c of this.credits.values())
      if (c.provider === p.provider && c.providerTxId === p.providerTxId) throw new Error(`provider transaction ${p.providerTxId} credited to two payments`);
    this.credits.set(p.paymentId, p);
    if (this.crashAfterNext) {
      this.crashAfterNext = false;
      throw new Error('simulated crash after the ledger write');
    }
  }

  /** What reached customer accounts (fees.ts creditFor). */
  accountTotal(account: string): number {
    let sum = 0;
    for (const c of this.credits.values()) if (c.account === account) sum += c.bearer === 'customer' ? c.grossMinor - c.feeMinor : c.grossMinor;
    return sum;
  }
}

export interface PaymentApi {
  readonly url: string;
  readonly tokens: { viewer: string; operator: string; admin: string };
  close(): Promise<void>;
}

/** Our payment routes on a real fastify server on loopback, with one user per role. */
export async function startPaymentApi(db: Database.Database, processor: PaymentProcessor, energyFor?: EnergyFor): Promise<PaymentApi> {
  const users = new UserStore(db);
  const tokens = { viewer: '', operator: '', admin: '' };
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    if (!users.list().some((u) => u.username === `t-${role}`)) await users.create(`t-${role}`, 'correct-horse-battery', role);
    const s = await users.login(`t-${role}`, 'correct-horse-battery');
    if (!s) throw new Error('login failed');
    tokens[role] = s.token;
  }
  const app = Fastify({ logger: false });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: err.message });
  });
  registerPaymentRoutes(new RouteRegistry(app, users), energyFor ? { processor, app, energyFor } : { processor, app });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: sandboxUrl(app.server.address()), tokens, close: () => app.close() };
}
