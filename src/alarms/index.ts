/** The alarm subsystem: rules -> alarms (SQLite, with history) -> webhook notifications. */
export { startAlarms, type Alarms, type AlarmsOptions, type StatusReport } from './engine.js';
export { AlarmStore, type AlarmRecord, type AlarmEvent, type AlarmChange, type AlarmQuery, type AlarmState, type RaiseInput } from './alarm-store.js';
export { alarmView, type AlarmView } from './alarm-view.js';
export { AlarmError } from './errors.js';
export { STATUS_CODES, statusCode, RELAY_CLOSED, type StatusCode } from './status-codes.js';
export { statfsProbe, type DiskProbe, type DiskSpace } from './rules/disk-free.js';
export { SIGNATURE_HEADER, signBody } from './webhook-message.js';
export type { WebhookOptions } from './webhook-notifier.js';
export { SEVERITIES, RULE_IDS, type Severity, type RuleId } from './types.js';
