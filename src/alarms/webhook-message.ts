import { createHmac, randomUUID } from 'node:crypto';
import type { AlarmChange } from './alarm-store.js';
import { alarmView } from './alarm-view.js';

/** The header that carries `sha256=<hex HMAC-SHA256 of the raw body>` when a secret is configured. */
export const SIGNATURE_HEADER = 'x-mgos-signature';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The JSON a receiver gets for one alarm change. `id` is unique per message and stays the same on
 * every retry, so a receiver that saw a message before can drop the copy.
 */
export function webhookMessage(change: AlarmChange, site: { readonly id: string; readonly name: string }): string {
  return JSON.stringify({
    id: randomUUID(),
    event: `alarm.${change.event.kind}`,
    at: change.event.at,
    by: change.event.by,
    note: change.event.message,
    site: { id: site.id, name: site.name },
    alarm: alarmView(change.alarm),
  });
}
