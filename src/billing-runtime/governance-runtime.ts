import { getCustomer } from '../billing/customers.js';
import { governanceConfigSchema, type SiteConfig } from '../config/site-config.js';
import { AuditLog } from '../governance/audit-log.js';
import { EscalationStore } from '../governance/escalations.js';
import { GovernanceGate, type GateDeps } from '../governance/gate.js';
import type { RelayClaims } from '../governance/relay-claims.js';
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
  readonly claims?: RelayClaims;
  readonly inputsPoor?: (meter: number) => string | null;
  readonly notify?: GateDeps['notify'];
  readonly confirmed?: GateDeps['confirmed'];
}): GovernanceRuntime {
  const { db, config } = d;
  const governance = governanceConfigSchema.parse(config.governance ?? {});
  const audit = new AuditLog(db);
  const settings = new GovernanceSettings(db);
  // The file seeds the site's level; a later change through the API (audited) is kept over restarts.
  // A relay's own level (control.autonomy, capability supply-disconnect, asset relay<meter>) comes first.
  const fileLevels = new Map((config.control?.autonomy ?? []).filter((a) => a.capability === 'supply-disconnect').map((a) => [a.asset, a.level] as const));
  const siteFromFile = fileLevels.get('site') ?? AUTONOMY[governance.disconnectAutonomy];
  if (settings.siteLevel(config.site.id) === undefined) settings.setSiteLevel(config.site.id, siteFromFile);
  const policy = disconnectPolicySchema.parse({
    timeZone: config.site.timezone,
    noDisconnectWindows: governance.noDisconnectWindows,
    noDisconnectWeekdays: governance.noDisconnectWeekdays,
    holidays: governance.holidays,
    reconnectAtL2: governance.reconnectAtL2,
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
    assetLevel: (asset) => fileLevels.get(asset),
    escalations: new EscalationStore(db),
    ...(d.claims ? { claims: d.claims } : {}),
    ...(d.inputsPoor ? { inputsPoor: d.inputsPoor } : {}),
    ...(d.notify ? { notify: d.notify } : {}),
    ...(d.confirmed ? { confirmed: d.confirmed } : {}),
  });
  return { audit, settings, gate };
}
