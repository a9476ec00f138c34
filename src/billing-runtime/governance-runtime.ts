import { getCustomer } from '../billing/customers.js';
import { governanceConfigSchema, type SiteConfig } from '../config/site-config.js';
import { AuditLog } from '../governance/audit-log.js';
import { GovernanceGate } from '../governance/gate.js';
import { GovernanceSettings } from '../governance/governance-settings.js';
import { ProposalStore } from '../governance/proposal-store.js';
import { disconnectPolicySchema, type AutonomyLevel } from '../governance/types.js';
import type { RelayBank } from '../relays/relay-bank.js';
import type { StoreDb } from '../store/database.js';
import type { Clock } from '../util/clock.js';

export interface GovernanceRuntime {
  readonly audit: AuditLog;
  readonly settings: GovernanceSettings;
  readonly gate: GovernanceGate;
}

const AUTONOMY: Record<'manual' | 'supervised' | 'autonomous', AutonomyLevel> = { manual: 'L1', supervised: 'L2', autonomous: 'L3' };

/** The disconnect/reconnect gate over the relays: the file seeds the autonomy level, windows and holidays. */
export function createGovernanceRuntime(d: {
  readonly db: StoreDb;
  readonly config: SiteConfig;
  readonly relays: RelayBank;
  readonly clock: Clock;
}): GovernanceRuntime {
  const { db, config } = d;
  const governance = governanceConfigSchema.parse(config.governance ?? {});
  const audit = new AuditLog(db);
  const settings = new GovernanceSettings(db);
  const seeded = db.prepare<[string], number>("SELECT 1 FROM governance_autonomy WHERE site = ? AND capability = 'disconnect'").pluck().get(config.site.id);
  // The file seeds the level; a later change through the API (audited) is kept over restarts.
  if (seeded === undefined) settings.setAutonomy(config.site.id, 'disconnect', AUTONOMY[governance.disconnectAutonomy]);
  const policy = disconnectPolicySchema.parse({
    timeZone: config.site.timezone,
    noDisconnectWindows: governance.noDisconnectWindows,
    noDisconnectWeekdays: governance.noDisconnectWeekdays,
    holidays: governance.holidays,
  });
  const gate = new GovernanceGate({
    site: config.site.id,
    policy,
    proposals: new ProposalStore(db),
    settings,
    audit,
    relays: d.relays,
    isProtected: (id) => getCustomer(db, id)?.protected ?? false,
    clock: d.clock,
  });
  return { audit, settings, gate };
}
