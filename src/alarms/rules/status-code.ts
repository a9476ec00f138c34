import { RELAY_CLOSED, type StatusCode } from '../status-codes.js';
import { clear, raise, type Finding } from '../types.js';

/** A reported operating status: relay closed clears the meter's status alarm, any other code raises it. */
export function statusFinding(meter: string, s: StatusCode): Finding {
  if (s.code === RELAY_CLOSED) return clear('status_code', meter, `${meter} reports ${s.code}: ${s.meaning}`);
  return raise(
    'status_code',
    meter,
    s.severity,
    String(s.code),
    `${meter} reports ${s.code} (Code 87 sub-code ${s.subCode}): ${s.meaning}. Action: ${s.action}`,
  );
}
