import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RouteRegistry } from '../api/route.js';
import { assignmentsOf, getCustomer } from '../billing/customers.js';
import { Ledger } from '../billing/ledger.js';
import { registerBillingDashboardRoutes } from './dashboard-routes.js';
import { registerSupplyRoutes } from './supply-routes.js';
import { billingConfigSchema, governanceConfigSchema, paymentsConfigSchema, type SiteConfig } from '../config/site-config.js';
import { AuditLog } from '../governance/audit-log.js';
import { GovernanceGate } from '../governance/gate.js';
import { GovernanceSettings } from '../governance/governance-settings.js';
import { PrepaidLoop, type PrepaidCustomer } from '../governance/prepaid-loop.js';
import { ProposalStore } from '../governance/proposal-store.js';
import { registerGovernanceRoutes } from '../governance/routes.js';
import { disconnectPolicySchema, type AutonomyLevel } from '../governance/types.js';
import { SmsOutbox } from '../notifications/sms-outbox.js';
import { LogFileSmsProvider } from '../notifications/sms-provider.js';
import { SmsSender } from '../notifications/sms-sender.js';
import { AirtelAdapter } from '../payments/adapters/airtel.js';
import { CashBook } from '../payments/adapters/cash.js';
import { MtnAdapter } from '../payments/adapters/mtn.js';
import { PesapalAdapter } from '../payments/adapters/pesapal.js';
import { creditFor, NO_FEES } from '../payments/fees.js';
import { IntentStore } from '../payments/intent-store.js';
import { PaymentProcessor } from '../payments/processor.js';
import type { PaymentProvider } from '../payments/provider.js';
import { registerPaymentRoutes } from '../payments/routes.js';
import { RelayBank } from '../relays/relay-bank.js';
import { RelayDriver, type RelayFault } from '../relays/relay-driver.js';
import { RelayWriteGuard, type RelayGuardOptions } from '../relays/relay-guard.js';
import { RELAY_MODELS } from '../relays/relay-models.js';
import type { Recorder } from '../recorder/recorder.js';
import { addRelayModule, type SimulatedRelayModule } from '../sim/relay-module.js';
import type { SimulatorHandle } from '../sim/simulator.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { ChargeFailure } from '../billing/prepaid-charging.js';
import { CreditEventHub } from './credit-events.js';
import { BillingLedgerPort, customerOfAccount, resolvePaymentAccount } from './ledger-adapter.js';
import { PrepaidRuntime } from './prepaid-runtime.js';
import { registerBillingRoutes } from './routes.js';

export { CreditEventHub } from './credit-events.js';
export { BillingLedgerPort, customerOfAccount, paymentKey, resolvePaymentAccount } from './ledger-adapter.js';
export { PrepaidRuntime } from './prepaid-runtime.js';
export { registerBillingRoutes } from './routes.js';

export interface BillingRuntimeDeps {
  readonly db: StoreDb;
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
  /** Relay wear protection (devices.md 3): minimum dwell and daily write budget per channel; defaults 15 min and 20. */
  readonly relaySafety?: Omit<RelayGuardOptions, 'timeZone'>;
  /**
   * A relay read-back mismatch, Modbus exception or guard refusal (e.g. to raise an alarm). Always logged;
   * startSystem does not pass one yet, so alarms for relays are not raised there.
   */
  readonly onRelayFault?: (f: RelayFault) => void;
  /** How often a disconnect refused by a no-disconnect window is re-checked (default 5 min). */
  readonly recheckEveryMs?: number;
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
  /** Simulated relay modules put on the simulator's bus (empty without a simulator). */
  readonly simRelays: readonly SimulatedRelayModule[];
  readonly registerRoutes: (routes: RouteRegistry, app: FastifyInstance) => void;
  /** One charging run now (flush, build intervals, charge, emit events); resolves when governance handled them. */
  chargeNow(): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

const AUTONOMY: Record<'manual' | 'supervised' | 'autonomous', AutonomyLevel> = { manual: 'L1', supervised: 'L2', autonomous: 'L3' };
const SIM_RELAY_FIRST_ADDRESS = 200;

/** Customer meters of the simulator, 8 per relay module (NC wiring: a dead module disconnects nobody). */
function simulatedRelays(sim: SimulatorHandle, config: SiteConfig): { modules: SimulatedRelayModule[]; relays: NonNullable<SiteConfig['relays']> } {
  const bus = config.buses[0]?.id;
  const inSite = new Set(config.meters.filter((m) => m.role === 'customer').map((m) => m.id));
  const ids = sim.model.customers.map((c) => c.id).filter((id) => inSite.has(id)).sort((a, b) => a - b);
  const modules: SimulatedRelayModule[] = [];
  const relays: NonNullable<SiteConfig['relays']> = [];
  if (!bus) return { modules, relays };
  for (let i = 0; i * 8 < ids.length; i++) {
    const group = ids.slice(i * 8, i * 8 + 8);
    const address = SIM_RELAY_FIRST_ADDRESS + i;
    modules.push(addRelayModule(sim, { address, wiredTo: group, channels: 8, wiring: 'nc' }));
    relays.push({ bus, address, model: 'waveshare-8ch-nc', channels: group.map((meter, ch) => ({ channel: ch + 1, meter })) });
  }
  return { modules, relays };
}

/**
 * The commercial side wired together: the ledger, payments (cash always, mobile money when configured),
 * prepaid charging with credit events, governance (gate, prepaid loop, audit) over the relays, and SMS
 * to a log file in the data folder. Nothing runs until start().
 */
export async function createBillingRuntime(d: BillingRuntimeDeps): Promise<BillingRuntime> {
  const { db, config, log } = d;
  const clock = d.clock ?? systemClock;
  const billing = billingConfigSchema.parse(config.billing ?? {});
  const governance = governanceConfigSchema.parse(config.governance ?? {});
  const payments = paymentsConfigSchema.parse(config.payments ?? {});
  const timeZone = config.site.timezone;

  const existing = Ledger.open(db, config.site.id);
  if (existing && existing.currency !== billing.currency) log.warn({ ledger: existing.currency, config: billing.currency }, 'billing.currency differs from the ledger; the ledger keeps its currency');
  const ledger = existing ?? new Ledger(db, config.site.id, billing.currency);

  // SMS: a log file next to the database until a gateway is configured.
  const sms = new SmsSender(new SmsOutbox(db), new LogFileSmsProvider(path.join(path.dirname(path.resolve(config.storage.path)), 'sms.log')));

  // Relays: configured modules, plus simulated ones on the simulator's bus.
  const simRelays = d.sim && (config.sim?.relays === true || d.demo) ? simulatedRelays(d.sim, config) : { modules: [], relays: [] };
  const relays = new RelayBank();
  const relayGuard = new RelayWriteGuard(db, { ...d.relaySafety, timeZone });
  const onFault = (f: RelayFault): void => {
    log.error({ relay: f.module, channel: f.channel, kind: f.kind, exceptionCode: f.exceptionCode }, f.message);
    d.onRelayFault?.(f);
  };
  for (const r of [...(config.relays ?? []), ...simRelays.relays]) {
    const bus = d.site.bus(r.bus);
    if (!bus) throw new Error(`relays: no bus "${r.bus}" is defined`);
    const driver = new RelayDriver(bus, r.address, RELAY_MODELS[r.model], { guard: relayGuard, onFault, name: `${r.bus}/${r.address}` });
    for (const ch of r.channels) relays.wire(ch.meter, { driver, channel: ch.channel });
  }

  // Governance.
  const audit = new AuditLog(db);
  const settings = new GovernanceSettings(db);
  const seeded = db.prepare<[string], number>("SELECT 1 FROM governance_autonomy WHERE site = ? AND capability = 'disconnect'").pluck().get(config.site.id);
  // The file seeds the level; a later change through the API (audited) is kept over restarts.
  if (seeded === undefined) settings.setAutonomy(config.site.id, 'disconnect', AUTONOMY[governance.disconnectAutonomy]);
  const policy = disconnectPolicySchema.parse({ timeZone, noDisconnectWindows: governance.noDisconnectWindows, noDisconnectWeekdays: governance.noDisconnectWeekdays, holidays: governance.holidays });
  const gate = new GovernanceGate({
    site: config.site.id,
    policy,
    proposals: new ProposalStore(db),
    settings,
    audit,
    relays,
    isProtected: (id) => getCustomer(db, id)?.protected ?? false,
    clock,
  });

  const events = new CreditEventHub();
  const prepaid = new PrepaidRuntime({ db, ledger, timeZone, lowBalanceThresholdsMinor: billing.lowBalanceThresholdsMinor, provisionalFromRawReadings: billing.provisionalFromRawReadings, chargeFixed: billing.chargeFixedToPrepaid, events });
  const meterOf = (customerId: string): number | undefined => {
    const current = assignmentsOf(db, customerId).filter((a) => a.toMs === null);
    for (const a of current) {
      const m = d.site.meter(a.meterKey);
      if (m && relays.has(m.id)) return m.id;
    }
    const first = current[0];
    return first ? d.site.meter(first.meterKey)?.id : undefined;
  };
  const loop = new PrepaidLoop({
    events,
    gate,
    sms,
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

  // Payments.
  const providers: Partial<Record<'mtn' | 'airtel' | 'pesapal', PaymentProvider>> = {};
  if (payments.mtn) providers.mtn = new MtnAdapter(payments.mtn);
  if (payments.airtel) providers.airtel = new AirtelAdapter(payments.airtel);
  if (payments.pesapal) providers.pesapal = new PesapalAdapter(payments.pesapal);
  const processor = new PaymentProcessor({ store: new IntentStore(db), providers, cash: new CashBook(db, payments.cash?.fees ?? NO_FEES), ledger: new BillingLedgerPort(db, ledger), now: clock, limits: { currency: ledger.currency, maxAmountMinor: billing.maxPaymentMinor } });
  processor.onCredited((intent) => {
    try {
      const c = customerOfAccount(db, intent.account);
      if (!c) return;
      const credit = creditFor(intent.creditedGrossMinor ?? intent.amountMinor, intent.creditedFeeMinor ?? intent.feeMinor, intent.bearer);
      prepaid.afterPayment(c.id, credit, clock());
    } catch (e) {
      log.error({ err: e }, 'after a payment: the credit event failed');
    }
  });
  await processor.recover();

  let chargeTimer: NodeJS.Timeout | null = null;
  let stopSweep: (() => void) | null = null;
  let recheckTimer: NodeJS.Timeout | null = null;
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
    ledger,
    processor,
    gate,
    audit,
    relays,
    loop,
    sms,
    prepaid,
    events,
    simRelays: simRelays.modules,
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
        customerOfMeter: (meter) => {
          const key = d.site.meterList().find((m) => m.id === meter)?.key;
          const a = key ? db.prepare<[string], string>('SELECT customer_id FROM billing_meter_assignments WHERE meter_key = ? AND to_ms IS NULL').pluck().get(key) : undefined;
          return a ?? null;
        },
      });
      registerBillingRoutes(routes, { db, ledger, timeZone, prepaid, siteName: d.config.site.name, meterExists: (key) => d.site.meter(key) !== undefined, now: clock });
      registerBillingDashboardRoutes(routes, { db, ledger, timeZone, now: clock });
      registerSupplyRoutes(routes, { gate, customerExists: (id) => getCustomer(db, id)?.site === config.site.id, meterOf, hasRelay: (m) => relays.has(m), holdOn: (m) => settings.holdOn(m, clock()) });
    },
    chargeNow,
    start: () => {
      sms.start();
      if (Object.keys(providers).length > 0) stopSweep = processor.runEvery(payments.sweepEveryMs);
      chargeTimer = setInterval(() => void chargeNow(), billing.chargeEveryMs);
      chargeTimer.unref();
      recheckTimer = setInterval(() => void loop.recheck(), d.recheckEveryMs ?? 5 * 60_000);
      recheckTimer.unref();
    },
    close: async () => {
      if (chargeTimer) clearInterval(chargeTimer);
      chargeTimer = null;
      if (recheckTimer) clearInterval(recheckTimer);
      recheckTimer = null;
      stopSweep?.();
      await charging;
      await loop.idle();
      await sms.stop();
    },
  };
}
