import type { Logger } from 'pino';
import { assignmentsOf, getCustomer } from '../billing/customers.js';
import type { ChargeFailure } from '../billing/prepaid-charging.js';
import type { GovernanceGate } from '../governance/gate.js';
import { PrepaidLoop, type PrepaidCustomer } from '../governance/prepaid-loop.js';
import type { SmsSender } from '../notifications/sms-sender.js';
import type { Recorder } from '../recorder/recorder.js';
import type { RelayBank } from '../relays/relay-bank.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import type { CreditEventHub } from './credit-events.js';
import type { PrepaidRuntime } from './prepaid-runtime.js';

export interface PrepaidSupplyDeps {
  readonly db: StoreDb;
  readonly site: SiteRuntime;
  readonly relays: RelayBank;
  readonly gate: GovernanceGate;
  readonly sms: SmsSender;
  readonly prepaid: PrepaidRuntime;
  readonly events: CreditEventHub;
  readonly recorder: Recorder;
  readonly log: Logger;
  readonly clock: Clock;
  readonly onChargeFailure?: (f: ChargeFailure) => void;
}

export interface PrepaidSupply {
  readonly loop: PrepaidLoop;
  /** The meter a customer's supply is switched at: a current assignment with a relay first. */
  readonly meterOf: (customerId: string) => number | undefined;
  /** One charging run now (flush, build intervals, charge, emit events); a run in progress is joined. */
  readonly chargeNow: () => Promise<void>;
  /** Resolves when the charging run in progress (if any) and the loop's work have ended. */
  idle(): Promise<void>;
}

/** Prepaid charging runs and the loop that turns their credit events into SMS and disconnect proposals. */
export function createPrepaidSupply(d: PrepaidSupplyDeps): PrepaidSupply {
  const { db, log, clock, prepaid } = d;
  const meterOf = (customerId: string): number | undefined => {
    const current = assignmentsOf(db, customerId).filter((a) => a.toMs === null);
    for (const a of current) {
      const m = d.site.meter(a.meterKey);
      if (m && d.relays.has(m.id)) return m.id;
    }
    const first = current[0];
    return first ? d.site.meter(first.meterKey)?.id : undefined;
  };
  const loop = new PrepaidLoop({
    events: d.events,
    gate: d.gate,
    sms: d.sms,
    customer: (id): PrepaidCustomer | undefined => {
      const c = getCustomer(db, id);
      const meter = c ? meterOf(c.id) : undefined;
      return c && meter !== undefined ? { id: c.id, name: c.name, phone: c.phone, meter } : undefined;
    },
    onError: (e) => log.error({ err: e }, 'prepaid loop: handling a credit event failed'),
    stillAtZero: (id) => prepaid.available(id, clock()) <= 0,
    clock,
  });
  loop.start();

  let charging: Promise<void> | null = null;
  const chargeNow = (): Promise<void> => {
    charging ??= (async () => {
      try {
        d.recorder.flushAndBuild();
        const r = prepaid.run(clock());
        if (r.charged > 0 || r.events > 0) log.info({ charged: r.charged, events: r.events }, 'prepaid charging run');
        for (const f of r.failures) {
          log.error({ customer: f.customerId }, `prepaid charging of ${f.customerId} failed: ${f.reason}`);
          d.onChargeFailure?.(f);
        }
        void loop.ensureDisconnects(r.atZero);
      } catch (e) {
        log.error({ err: e }, 'prepaid charging failed; retried on the next run');
      }
      await loop.idle();
    })().finally(() => {
      charging = null;
    });
    return charging;
  };
  return {
    loop,
    meterOf,
    chargeNow,
    idle: async () => {
      await charging;
      await loop.idle();
    },
  };
}
