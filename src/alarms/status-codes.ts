import { AlarmError } from './errors.js';
import type { Severity } from './types.js';

/**
 * AMI meter operating status codes 1000-1025 and their Code 87 disconnect sub-codes, with meaning
 * and field action as in the field teams' quick action guide (postpaid). Severity is ours:
 * critical = safety or theft, major = a customer without supply or tamper, minor = power quality or
 * back office, info = nothing to do. Codes the guide does not list (1002, 1010, 1019, 1020) are refused.
 */
export interface StatusCode {
  readonly code: number;
  readonly subCode: number;
  readonly meaning: string;
  readonly action: string;
  readonly severity: Severity;
}

/** Relay closed, normal supply: the one code that clears a status alarm. */
export const RELAY_CLOSED = 1000;

export const STATUS_CODES: readonly StatusCode[] = [
  { code: 1000, subCode: 0, meaning: 'Relay Closed (normal supply)', action: 'No action, meter supplying load.', severity: 'info' },
  { code: 1001, subCode: 1, meaning: 'No Credit', action: 'Ignore in postpaid; not applicable.', severity: 'info' },
  {
    code: 1003,
    subCode: 3,
    meaning: 'Over Power (load exceeded threshold)',
    action: 'Check load vs. configured trip limit; advise reduction or adjust threshold.',
    severity: 'minor',
  },
  { code: 1004, subCode: 4, meaning: 'Relay Test', action: 'No action needed; relay was tested.', severity: 'info' },
  { code: 1005, subCode: 5, meaning: 'Open Upper Cover (tamper)', action: 'Reseal cover + enter clear tamper token.', severity: 'major' },
  { code: 1006, subCode: 6, meaning: 'Open Terminal Cover (tamper)', action: 'Reseal cover + enter clear tamper token.', severity: 'major' },
  { code: 1007, subCode: 7, meaning: 'Remote Disconnect', action: 'Confirm backend/HES instruction; reconnect if not intentional.', severity: 'major' },
  { code: 1008, subCode: 8, meaning: 'Not-active (meter not commissioned)', action: 'Commission meter (default code: 12345).', severity: 'major' },
  { code: 1009, subCode: 9, meaning: 'Over Current', action: 'Inspect load for surges; advise customer or adjust protection.', severity: 'minor' },
  { code: 1011, subCode: 11, meaning: 'Over Voltage', action: 'Supply voltage too high; report to utility/feeder operator.', severity: 'major' },
  { code: 1012, subCode: 12, meaning: 'Under Voltage', action: 'Supply voltage too low; report to utility/feeder operator.', severity: 'major' },
  {
    code: 1013,
    subCode: 13,
    meaning: 'Current Reverse (possible tamper/wiring issue)',
    action: 'Inspect wiring; correct polarity; clear tamper if needed.',
    severity: 'major',
  },
  { code: 1014, subCode: 14, meaning: 'Open Enclosure Cover (tamper)', action: 'Reseal + enter clear tamper token.', severity: 'major' },
  {
    code: 1015,
    subCode: 15,
    meaning: 'Magnetic Field Interference (tamper)',
    action: 'Investigate possible magnet tampering; clear tamper.',
    severity: 'major',
  },
  { code: 1016, subCode: 16, meaning: 'Current Imbalance', action: 'Check for abnormal phase imbalance; troubleshoot load.', severity: 'minor' },
  { code: 1017, subCode: 17, meaning: 'Neutral Line Interference', action: 'Inspect neutral wiring/tamper.', severity: 'major' },
  { code: 1018, subCode: 18, meaning: 'Bypass (illegal connection)', action: 'Investigate and escalate if confirmed.', severity: 'critical' },
  { code: 1021, subCode: 21, meaning: 'Voltage Imbalance', action: 'Investigate feeder phase imbalance.', severity: 'minor' },
  { code: 1022, subCode: 22, meaning: 'Thermal Overload', action: 'Meter overheating; check ventilation/load; allow cooling.', severity: 'critical' },
  { code: 1023, subCode: 23, meaning: 'Low Power Factor', action: 'Check load PF; recommend correction (capacitors).', severity: 'minor' },
  { code: 1024, subCode: 24, meaning: 'Tariff Error', action: 'Backend tariff configuration issue; escalate to AMI admin.', severity: 'minor' },
  {
    code: 1025,
    subCode: 25,
    meaning: 'Remote Reconnect + Local Trip',
    action: 'Local condition (e.g., overload/tamper) persists; troubleshoot before reconnection.',
    severity: 'major',
  },
];

const byCode = new Map(STATUS_CODES.map((c) => [c.code, c]));

/** The table entry for a code; an unknown code is refused with the list of known ones. */
export function statusCode(code: number): StatusCode {
  const entry = byCode.get(code);
  if (!entry) throw new AlarmError('invalid', `unknown meter status code ${code}; known codes: ${STATUS_CODES.map((c) => c.code).join(', ')}`);
  return entry;
}
