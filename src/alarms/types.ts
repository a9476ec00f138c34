/** The vocabulary shared by rules, the alarm store and the engine. */
export const SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_IDS = [
  'meter_offline',
  'not_logging',
  'voltage',
  'frequency',
  'reverse_energy',
  'energy_balance',
  'disk_free',
  'status_code',
  'interval_quarantine',
  'bus_down',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** The subject of alarms about the whole site rather than one meter. */
export const SITE_SUBJECT = 'site';

/** Who did something when no person did: the engine's own raises and clears. */
export const SYSTEM_ACTOR = 'system';

/**
 * What a rule concluded about one subject (a meter key, `meterN/Channel`, or 'site'). A subject a
 * rule cannot judge (no good data) is left out, so its alarm keeps its state.
 * `condition` names what exactly is wrong ('under', '1005'): re-raising with the same condition and
 * severity changes nothing, so a value that wanders while out of range does not flood the history.
 */
export type Finding =
  | {
      readonly rule: RuleId;
      readonly subject: string;
      readonly active: true;
      readonly severity: Severity;
      readonly condition: string;
      readonly message: string;
    }
  | { readonly rule: RuleId; readonly subject: string; readonly active: false; readonly message: string };

export const raise = (rule: RuleId, subject: string, severity: Severity, condition: string, message: string): Finding => ({
  rule,
  subject,
  active: true,
  severity,
  condition,
  message,
});

export const clear = (rule: RuleId, subject: string, message: string): Finding => ({ rule, subject, active: false, message });

/** The subject of a bus's alarms ('bus:bus1'): not a meter, so it survives the sweep of removed meters. */
export const busSubject = (busId: string): string => `bus:${busId}`;

/** The bus a subject is about, or null ('bus:bus1' -> 'bus1'). */
export const busOfSubject = (subject: string): string | null => (subject.startsWith('bus:') ? subject.slice(4) : null);

/** The meter a subject is about, or null for site-wide and bus subjects ('meter12/Voltage_L1' -> 'meter12'). */
export const meterOfSubject = (subject: string): string | null =>
  subject === SITE_SUBJECT || busOfSubject(subject) !== null ? null : (subject.split('/')[0] ?? null);

/** Rounds for messages: enough digits to act on, not float noise. */
export const fmt = (x: number, digits = 1): string => x.toFixed(digits);
