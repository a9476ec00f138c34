import type { AlarmRecord } from './alarm-store.js';

/** The public shape of an alarm, the same in the HTTP API and in webhook messages. */
export function alarmView(a: AlarmRecord) {
  return {
    id: a.id,
    rule: a.rule,
    subject: a.subject,
    severity: a.severity,
    state: a.state,
    message: a.message,
    raisedAt: a.raisedAt,
    clearedAt: a.clearedAt,
    acknowledged: a.acknowledged ? { by: a.acknowledged.by, at: a.acknowledged.at, note: a.acknowledged.note } : null,
  };
}

export type AlarmView = ReturnType<typeof alarmView>;
