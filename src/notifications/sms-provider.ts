import { appendFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../util/clock.js';
import { randomUUID } from 'node:crypto';

/** An SMS gateway: resolves with the gateway's message id once it accepted the message, rejects otherwise. */
export interface SmsProvider {
  send(to: string, text: string): Promise<{ id: string }>;
}

/** The default "gateway": one JSON line per message in a file, so a site without SMS still has a record. */
export class LogFileSmsProvider implements SmsProvider {
  constructor(
    private readonly file: string,
    private readonly now: Clock = systemClock,
  ) {}

  async send(to: string, text: string): Promise<{ id: string }> {
    const id = randomUUID();
    await appendFile(this.file, `${JSON.stringify({ id, ts: new Date(this.now()).toISOString(), to, text })}\n`);
    return { id };
  }
}
