import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { PaymentProcessor } from '../../src/payments/processor.js';
import { RecordingLedger, startPaymentApi, type PaymentApi } from '../../src/payments/sandbox/harness.js';

/** A provider sandbox: an HTTP server standing in for the provider. */
export interface ProviderSandbox {
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A payment processor on a WAL SQLite file in a temp dir, against a started provider sandbox, with the
 * payment HTTP API in front of it. `processorFor` builds the processor for a database (called again by
 * `reopen`, as after a crash); `apiUrl()` is the API's address once it runs. Everything is stopped and
 * removed after the test.
 */
export async function paymentHarness<S extends ProviderSandbox>(
  t: TestContext,
  sandbox: S,
  processorFor: (db: Database.Database, ledger: RecordingLedger, sandboxUrl: string, apiUrl: () => string) => PaymentProcessor,
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mgos-pay-'));
  const file = path.join(dir, 'pay.db');
  const sandboxUrl = await sandbox.start();
  const ledger = new RecordingLedger();
  let api: PaymentApi | null = null;
  const apiUrl = () => api?.url ?? 'http://127.0.0.1:1';
  const open = () => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    return { db, processor: processorFor(db, ledger, sandboxUrl, apiUrl) };
  };
  const first = open();
  const running = await startPaymentApi(first.db, first.processor);
  api = running;
  t.after(async () => {
    await sandbox.stop();
    await running.close();
    if (first.db.open) first.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { sandbox, ledger, ...first, api: running, reopen: open };
}
