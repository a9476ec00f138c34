import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RouteRegistry } from '../api/route.js';
import { getCustomer } from '../billing/customers.js';
import { Ledger } from '../billing/ledger.js';
import type { ChargeFailure } from '../billing/prepaid-charging.js';
import { registerBillingDashboardRoutes } from './dashboard-routes.js';
import { registerSupplyRoutes } from './supply-routes.js';
import { billingConfigSchema, governanceConfigSchema, type SiteConfig } from '../config/site-config.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InvoicePdfInput } from '../billing/invoice-pdf.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { GovernanceGate } from '../governance/gate.js';
import type { PrepaidLoop } from '../governance/prepaid-loop.js';
import type { RelayClaims } from '../governance/relay-claims.js';
import { registerGovernanceRoutes } from '../governance/routes.js';
import { SmsOutbox } from '../notifications/sms-outbox.js';
import { LogFileSmsProvider } from '../notifications/sms-provider.js';
import { SmsSender } from '../notifications/sms-sender.js';
import type { PaymentProcessor } from '../payments/processor.js';
import { registerPaymentRoutes } from '../payments/routes.js';
import type { RelayBank } from '../relays/relay-bank.js';
import type { RelayFault } from '../relays/relay-driver.js';
import type { RelayGuardOptions } from '../relays/relay-guard.js';
import type { Recorder } from '../recorder/recorder.js';
import type { SimulatedRelayModule } from '../sim/relay-module.js';
import type { SimulatorHandle } from '../sim/simulator.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Scheduler } from '../util/scheduler.js';
import { CreditEventHub } from './credit-events.js';
import { createGovernanceRuntime } from './governance-runtime.js';
import { customerOfAccount, resolvePaymentAccount } from './ledger-adapter.js';
import { meterInputsPoor } from './meter-inputs.js';
import { createPaymentsRuntime } from './payments-runtime.js';
import { createPrepaidSupply } from './prepaid-supply.js';
import { PrepaidRuntime } from './prepaid-runtime.js';
import { createRelayRuntime } from './relay-runtime.js';
import { registerBillingRoutes } from './routes.js';

export { CreditEventHub } from './credit-events.js';
export { BillingLedgerPort, customerOfAccount, paymentKey, resolvePaymentAccount } from './ledger-adapter.js';
export { PrepaidRuntime } from './prepaid-runtime.js';
export { registerBillingRoutes } from './routes.js';

export interface BillingRuntimeDeps {
  readonly db: StoreDb;
  /** Work that would hold the event loop, on the read worker (system.ts): the audit log and invoice PDFs. */
  readonly offThread?: BillingOffThread;
  readonly config: SiteConfig;
  readonly site: SiteRuntime;
  readonly recorder: Recorder;
  readonly sim: SimulatorHandle | null;
  /** The embedded demo: simulated relays are added even when sim.relays is not set. */
  readonly demo: boolean;
  readonly log: Logger;
  /** The one clock of the system (charging runs, the governance gate, payments, routes); default systemClock. */
  readonly clock?: Clock;
  /**
   * A prepaid customer that could not be charged in a run (e.g. to raise an alarm on that customer);
   * the others were charged. Called on every failed run, so the same reason again should not be a change.
   */
  readonly onChargeFailure?: (f: ChargeFailure) => void;
  /** Relay wear protection (docs/devices.md#write-wear): minimum dwell and daily write budget per channel; defaults 15 min and 20. */
  readonly relaySafety?: Omit<RelayGuardOptions, 'timeZone'>;
  /**
   * A relay read-back mismatch, Modbus exception or guard refusal (e.g. to raise an alarm). Always logged;
   * startSystem does not pass one yet, so alarms for relays are not raised there.
   */
  readonly onRelayFault?: (f: RelayFault) => void;
  /** Relays held by a more critical capability (the edge cycle's shedding, overrides); one object shared with it. */
  readonly claims?: RelayClaims;
  /** An L3 capability escalated to L2 (e.g. raise an alarm: UI and webhook); SMS to governance.escalationSms is sent here. */
  readonly onEscalation?: (e: { capability: string; asset: string; sinceMs: number; why: string }) => void;
  /** A person confirmed that escalation (e.g. clear its alarm). */
  readonly onEscalationConfirmed?: (e: { capability: string; asset: string; by: string }) => void;
  /** How often a disconnect refused by a no-disconnect window is re-checked (default 5 min). */
  readonly recheckEveryMs?: number;
  /**
   * Runs the periodic jobs from start() to close(): "prepaid charging", "disconnect re-check",
   * "payments sweep" (with mobile money) and "sms delivery". By default one of its own.
   */
  readonly scheduler?: Scheduler;
}

export interface BillingRuntime {
  readonly ledger: Ledger;
  readonly processor: PaymentProcessor;
  readonly gate: GovernanceGate;
  readonly audit: AuditLog;
  readonly relays: RelayBank;
  readonly loop: PrepaidLoop;
  readonly sms: SmsSender;
  readonly prepaid: PrepaidRuntime;
  readonly events: CreditEventHub;
  /** Texts the operators in governance.escalationSms that a capability escalated (the edge cycle's too). */
  readonly smsEscalation: (e: { capability: string; why: string }) => void;
  /** Simulated relay modules put on the simulator's bus (empty without a simulator). */
  readonly simRelays: readonly SimulatedRelayModule[];
  readonly registerRoutes: (routes: RouteRegistry, app: FastifyInstance) => void;
  /** One charging run now (flush, build intervals, charge, emit events); resolves when governance handled them. */
  chargeNow(): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

/**
 * The commercial side wired together: the ledger, payments (cash always, mobile money when configured),
 * prepaid charging with credit events, governance (gate, prepaid loop, audit) over the relays, and SMS
 * to a log file in the data folder. Nothing runs until start().
 */
/** The billing routes' heavy reads done elsewhere; each answers as the route would. */
export interface BillingOffThread {
  /** GET /api/audit's body ({ entries }) sent to `reply`. */
  readonly auditList: (from: number | undefined, to: number | undefined, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
  /** An invoice PDF's bytes. */
  readonly invoicePdf: (input: InvoicePdfInput) => Promise<Uint8Array>;
}

export async function createBillingRuntime(d: BillingRuntimeDeps): Promise<BillingRuntime> {
  const { db, config, log } = d;
  const clock = d.clock ?? systemClock;
  const billing = billingConfigSchema.parse(config.billing ?? {});
  const timeZone = config.site.timezone;
  const scheduler = d.scheduler ?? new Scheduler({ clock, onError: (job, err) => log.error({ err }, `${job} failed`) });

  const existing = Ledger.open(db, config.site.id);
  if (existing && existing.currency !== billing.currency)
    log.warn({ ledger: existing.currency, config: billing.currency }, 'billing.currency differs from the ledger; the ledger keeps its currency');
  const ledger = existing ?? new Ledger(db, config.site.id, billing.currency);

  // SMS: a log file next to the database until a gateway is configured.
  const sms = new SmsSender(new SmsOutbox(db), new LogFileSmsProvider(path.join(path.dirname(path.resolve(config.storage.path)), 'sms.log')), { scheduler });
  const { relays, simRelays } = createRelayRuntime(d);
  const escalationSms = governanceConfigSchema.parse(config.governance ?? {}).escalationSms;
  /** People hear of an escalation in the UI and by webhook (the alarm) and by SMS. */
  const smsEscalation = (e: { capability: string; why: string }): void => {
    for (const to of escalationSms) sms.notify(to, { kind: 'escalation', site: config.site.name, capability: e.capability, why: e.why });
  };
  const notifyEscalation = (e: { capability: string; asset: string; sinceMs: number; why: string }): void => {
    d.onEscalation?.(e);
    smsEscalation(e);
  };
  const { audit, settings, gate } = createGovernanceRuntime({
    db,
    config,
    relays,
    clock,
    ...(d.claims ? { claims: d.claims } : {}),
    inputsPoor: (meter) => meterInputsPoor(d.site, meter),
    notify: (e) => notifyEscalation({ capability: e.capability, asset: e.asset, ...e.escalation }),
    ...(d.onEscalationConfirmed ? { confirmed: d.onEscalationConfirmed } : {}),
  });
  const events = new CreditEventHub();
  const prepaid = new PrepaidRuntime({
    db,
    ledger,
    timeZone,
    lowBalanceThresholdsMinor: billing.lowBalanceThresholdsMinor,
    provisionalFromRawReadings: billing.provisionalFromRawReadings,
    chargeFixed: billing.chargeFixedToPrepaid,
    events,
  });
  const supply = createPrepaidSupply({
    db,
    site: d.site,
    relays,
    gate,
    sms,
    prepaid,
    events,
    recorder: d.recorder,
    log,
    clock,
    ...(d.onChargeFailure ? { onChargeFailure: d.onChargeFailure } : {}),
  });
  const { loop, meterOf, chargeNow } = supply;
  const payments = await createPaymentsRuntime({ db, config, ledger, prepaid, maxPaymentMinor: billing.maxPaymentMinor, log, clock });
  const { processor } = payments;

  let stopJobs: Array<() => Promise<void>> = [];
  return {
    ledger,
    processor,
    gate,
    audit,
    relays,
    loop,
    sms,
    prepaid,
    events,
    smsEscalation,
    simRelays,
    registerRoutes: (routes, app) => {
      registerPaymentRoutes(routes, {
        processor,
        app,
        resolveAccount: (account) => resolvePaymentAccount(db, config.site.id, account),
        energyFor: (creditMinor, account) => {
          const c = account ? customerOfAccount(db, account) : undefined;
          return c ? prepaid.energyFor(c.id, creditMinor, clock()) : null;
        },
      });
      registerGovernanceRoutes(routes, {
        gate,
        audit,
        ...(d.offThread ? { auditList: d.offThread.auditList } : {}),
        customerOfMeter: (meter) => {
          const key = d.site.meterList().find((m) => m.id === meter)?.key;
          const a = key
            ? db.prepare<[string], string>('SELECT customer_id FROM billing_meter_assignments WHERE meter_key = ? AND to_ms IS NULL').pluck().get(key)
            : undefined;
          return a ?? null;
        },
      });
      registerBillingRoutes(routes, {
        db,
        ledger,
        timeZone,
        prepaid,
        siteName: d.config.site.name,
        meterExists: (key) => d.site.meter(key) !== undefined,
        now: clock,
        ...(d.offThread ? { renderPdf: d.offThread.invoicePdf } : {}),
      });
      registerBillingDashboardRoutes(routes, { db, ledger, timeZone, now: clock });
      registerSupplyRoutes(routes, {
        gate,
        customerExists: (id) => getCustomer(db, id)?.site === config.site.id,
        meterOf,
        hasRelay: (m) => relays.has(m),
        holdOn: (m) => settings.holdOn(m, clock()),
      });
    },
    chargeNow,
    start: () => {
      sms.start();
      stopJobs = [
        // Callbacks can be late or lost: MTN's MoMo developer portal (callback page) advises checking a
        // request's status about 5 minutes after initiation when no callback has come.
        ...(payments.hasProviders ? [scheduler.every('payments sweep', payments.sweepEveryMs, () => processor.recover())] : []),
        scheduler.every('prepaid charging', billing.chargeEveryMs, chargeNow),
        scheduler.every('disconnect re-check', d.recheckEveryMs ?? 5 * 60_000, async () => {
          await loop.recheck();
          await gate.resumeDeferred(); // reconnects that waited for an override that has lapsed
        }),
      ];
    },
    close: async () => {
      const stops = stopJobs;
      stopJobs = [];
      await Promise.all(stops.map((stop) => stop()));
      await supply.idle();
      await sms.stop();
    },
  };
}
