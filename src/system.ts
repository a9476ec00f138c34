import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { RouteRegistry } from './api/route.js';
import { createApiServer } from './api/server.js';
import { alarmStreamSource, registerAlarmRoutes } from './alarms/routes.js';
import { registerFleetRoutes } from './fleet/routes.js';
import { startUplink, type RunningUplink } from './uplink/index.js';
import { prometheusRegistry } from './metrics/prometheus.js';
import { registerMetricsRoute } from './metrics/routes.js';
import { publishHealth } from './metrics/health-publisher.js';
import { registerUplinkRoutes } from './uplink/routes.js';
import { siteFigures } from './metrics/site-figures.js';
import { registerHistoryRoutes } from './history/routes.js';
import { startAlarms, type Alarms } from './alarms/index.js';
import { registerSimRoutes } from './sim/routes.js';
import { createBillingRuntime, type BillingRuntime } from './billing-runtime/index.js';
import { UserStore } from './auth/user-store.js';
import { loadSiteConfigFile } from './config/load-site-config.js';
import { siteConfigSchemaFor, type MeterConfig, type SiteConfig } from './config/site-config.js';
import { loadProfiles } from './drivers/profiles.js';
import type { DeviceProfile } from './drivers/profile-schema.js';
import { Recorder } from './recorder/recorder.js';
import { meterPowerLimits } from './recorder/meter-limits.js';
import { ConfigVersions } from './commissioning/config-versions.js';
import { startCommissioning, type Commissioning } from './commissioning/commissioning.js';
import { demoConfig } from './demo/demo-config.js';
import { SiteRuntime } from './site/site-runtime.js';
import type { SimulatorHandle } from './sim/simulator.js';
import { startEmbeddedSimulator } from './site/embedded-simulator.js';
import { seedDemoBilling } from './demo/demo-billing-seed.js';
import { startDemoMobileMoney } from './demo/demo-mobile-money.js';
import { registerOperatorOverviewRoutes } from './overview/operator-overview.js';
import { registerProfileRoutes } from './site/profile-routes.js';
import type { StoreDb } from './store/database.js';
import { moveToDisk, openStore, type StorePlace } from './store/open-store.js';
import { superviseStorePlace } from './store-place-supervisor.js';
import { acceptedEncoding, openReadPool, orBusy, sendEncoded } from './api/read-pool.js';
import { fromRoot } from './util/paths.js';
import { systemClock, type Clock } from './util/clock.js';
import { Scheduler } from './util/scheduler.js';
import { ControlRuntime, type ControlTestHooks } from './edge/control-runtime.js';
import { controlApprovalSource } from './edge/approval-source.js';
import { registerApprovalRoutes, supplyApprovalSource } from './governance/approvals.js';
import { escalationAlarmMessage } from './governance/escalations.js';
import { RelayClaims } from './governance/relay-claims.js';
import { UtilityRuntime } from './csip/utility-runtime.js';
import { registerUtilityRoutes } from './csip/routes.js';
import type { CsipConfig } from './csip/csip-config.js';
import { complianceRecorder } from './csip/compliance-recorder.js';
import { startDemoUtility } from './demo/demo-utility.js';
import { registerControlRoutes } from './edge/routes.js';
import { startScadaServer, type ScadaServer } from './scada/server.js';
import { CentralSystem } from './ocpp/central-system.js';
import { startRemote } from './remote/remote-runtime.js';

export interface SystemOptions {
  /** A site YAML file. Without it (and without `config`) the embedded demo runs. */
  readonly configPath?: string;
  /** A configuration object instead of a file (tests); validated like a file. */
  readonly config?: unknown;
  /** Where the demo keeps its database. */
  readonly dataDir?: string;
  /** The demo's number of simulated customers (default 24; benches run it with 98, i.e. 100 meters). */
  readonly demoCustomers?: number;
  readonly httpPort?: number;
  readonly httpHost?: string;
  /** The first admin's password; generated (and returned once) when not given. */
  readonly adminPassword?: string;
  readonly logger?: Logger;
  /**
   * The one clock of the whole system: poller, recorder, alarms, billing, governance, audit log, API
   * and (through the time the API reports) the web UI. Tests start it at a chosen day and hour.
   */
  readonly clock?: Clock;
  /**
   * The simulated physical world's own clock (default: the system clock). It belongs to the meters,
   * not to the system: tests freeze it so the simulated values hold still while the system runs.
   */
  readonly simClock?: Clock;
  /** Tests only: extra controllers for the edge cycle (a thrower, an endless loop). */
  readonly controlHooks?: ControlTestHooks;
}

export interface RunningSystem {
  readonly url: string;
  /** Only on the very first start: the generated admin password, to show once. Null afterwards. */
  readonly adminPassword: string | null;
  readonly config: SiteConfig;
  readonly site: SiteRuntime;
  readonly recorder: Recorder;
  readonly db: StoreDb;
  readonly sim: SimulatorHandle | null;
  readonly http: FastifyInstance;
  readonly commissioning: Commissioning;
  readonly alarms: Alarms;
  /** Ledger, payments, prepaid charging, governance, relays and SMS. */
  readonly billing: BillingRuntime;
  /** The edge cycle, when the site file has a control section. */
  readonly control: ControlRuntime | null;
  /** The 2030.5 client writing the utility's limits into the process image, when the site file has a csip section. */
  readonly utility: UtilityRuntime | null;
  /** The Modbus TCP server for SCADA, when the site file enables it. */
  readonly scada: ScadaServer | null;
  /** The OCPP 1.6J central system for EV chargers, when the site file enables it. */
  readonly ocpp: CentralSystem | null;
  /**
   * Whether the store is on disk. In memory (a first start on a full disk) `roomOnDisk` resolves once the
   * disk has room; `close()` then copies the store to its file, and a new start runs on it.
   */
  readonly storage: StorePlace & { readonly roomOnDisk: Promise<void> };
  /**
   * Resolves (with the reason) when a remote command asks for a restart: the caller closes this system
   * and starts a new one, as `mgos start` does after a store move (src/cli/commands/start.ts).
   */
  readonly restartRequested: Promise<string>;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export const VERSION = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;

function resolveConfig(o: SystemOptions, demoCsip: CsipConfig | undefined): { config: SiteConfig; profiles: Map<string, DeviceProfile> } {
  if (o.configPath) return loadSiteConfigFile(o.configPath);
  const profiles = loadProfiles();
  if (o.config !== undefined) return { config: siteConfigSchemaFor([...profiles.keys()]).parse(o.config), profiles };
  return { config: demoConfig(o.dataDir ?? 'data', { httpPort: o.httpPort, httpHost: o.httpHost, csip: demoCsip, customers: o.demoCustomers }), profiles };
}

/** Starts everything: simulator (if configured), database, pollers, recorder, HTTP API and UI. */
export async function startSystem(o: SystemOptions = {}): Promise<RunningSystem> {
  const log = o.logger ?? pino({ level: process.env.MGOS_LOG_LEVEL ?? 'info' });
  const clock = o.clock ?? systemClock;
  const demo = o.configPath === undefined && o.config === undefined;
  // The demo's utility: a 2030.5 server in this process that the site's csip client follows (demo-utility.ts).
  const demoUtility = demo ? await startDemoUtility({ clock }) : null;
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c();
  };
  if (demoUtility) cleanups.push(() => demoUtility.close());
  try {
    const resolved = resolveConfig(o, demoUtility?.csip);
    let config = resolved.config;
    const storePath = config.storage.path;
    const { db, place } = openStore(storePath);
    cleanups.push(() => {
      db.close();
    });
    if (!place.onDisk) {
      log.warn({ why: place.why }, 'the data disk is full: the store runs in memory until there is room');
      // Runs just before the store closes, after the recorder's last flush.
      cleanups.push(async () => {
        try {
          await moveToDisk(db, storePath);
          log.info({ db: storePath }, 'the store held in memory is now on disk');
        } catch (err) {
          log.error({ err, db: storePath }, 'the store held in memory could not be written to disk and is lost');
        }
      });
    }
    const users = new UserStore(db, clock);
    const adminPassword = await users.ensureAdmin(o.adminPassword);
    // Limits follow the meter list in force: the site file's until commissioning manages it live.
    let metersInForce = (): readonly MeterConfig[] => config.meters;
    const recorder = new Recorder(db, {
      maxPowerWFor: meterPowerLimits(() => metersInForce(), resolved.profiles),
      flushIntervalMs: config.storage.flushIntervalMs,
      rawRetentionDays: config.storage.rawRetentionDays,
      now: clock,
      onError: (what, err) => log.error({ err }, `recorder ${what} failed; readings kept for the next try`),
      holdUntilStop: !place.onDisk,
    });
    let sim: SimulatorHandle | null = null;
    if (config.sim?.enabled) {
      const started = await startEmbeddedSimulator(config, {
        recorder,
        profiles: resolved.profiles,
        log,
        clock: o.simClock ?? clock,
        backfill: place.onDisk,
      });
      sim = started.sim;
      cleanups.push(() => started.sim.close());
      config = started.config;
    }
    // The meter list in force is the newest configuration version (the site file seeds it).
    const versions = new ConfigVersions(db, clock);
    config = { ...config, meters: [...versions.adoptFile(config.meters).meters] };
    const site = new SiteRuntime(config, resolved.profiles, recorder, clock);
    // The first cycle of each bus is flushed at once (a crash loop still records).
    cleanups.push(site.live.subscribe(({ report }) => recorder.cycleDone(report.bus)));
    const commissioning = startCommissioning({ db, site, config, profiles: resolved.profiles, recorder, versions, clock });
    metersInForce = () => commissioning.manager.meters();
    // Every periodic job (charging, re-checks, sweeps, SMS, periodic alarm rules) runs on one scheduler.
    const scheduler = new Scheduler({ clock, onError: (job, err) => log.error({ err }, `${job} failed`) });
    cleanups.push(() => scheduler.stop());
    const alarms = startAlarms({ db, site, config, now: clock, scheduler, onError: (what, err) => log.error({ err }, `alarms: ${what} failed`) });
    cleanups.push(() => alarms.stop());
    const roomOnDisk = superviseStorePlace({
      place,
      db,
      file: storePath,
      scheduler,
      alarms: alarms.store,
      maxReadings: recorder.writer.maxPending,
      log,
      cleanups,
    });
    const simHandle = sim;
    // The demo's mobile money: a local Airtel sandbox in this process, configured as the site's provider.
    const mobileMoney = demo ? await startDemoMobileMoney() : null;
    if (mobileMoney) {
      cleanups.push(() => mobileMoney.close());
      config = {
        ...config,
        payments: {
          ...config.payments,
          sweepEveryMs: config.payments?.sweepEveryMs ?? 60_000,
          airtel: { ...mobileMoney.airtel, fees: { bearer: 'operator', schedules: [] } },
        },
      };
    }
    // History, CSV, fleet, audit and invoice PDF work runs on a worker thread (api/read-queries.ts): no
    // request can stall the edge cycle, the bus or the recorder that share this thread with fastify.
    const history = openReadPool(config.storage.path);
    cleanups.push(() => history.close());
    // Who holds each customer relay above business (shedding, overrides): shared by the edge cycle and the disconnect gate.
    const claims = new RelayClaims();
    const billing = await createBillingRuntime({
      db,
      offThread: {
        auditList: (from, to, req, reply) => sendEncoded(reply, JSON_TYPE, history.runEncoded(acceptedEncoding(req), 'auditList', from, to)),
        invoicePdf: async (input) => (await orBusy(null, history.runEncoded('identity', 'invoicePdf', input))).body,
      },
      claims,
      // supply-disconnect escalated (L3 hit a limit or had poor inputs): an alarm for the UI and the webhook.
      onEscalation: (e) =>
        alarms.store.raise({
          rule: 'governance_escalation',
          subject: `${e.capability}:${e.asset}`,
          severity: 'major',
          message: escalationAlarmMessage(e),
        }),
      // A person confirmed it (POST /api/escalations/confirm): the alarm has done its job.
      onEscalationConfirmed: (e) =>
        alarms.store.clear('governance_escalation', `${e.capability}:${e.asset}`, { by: e.by, message: `confirmed by ${e.by}: back to L3` }),
      config,
      site,
      recorder,
      sim,
      demo,
      log,
      clock,
      scheduler,
      // A relay that does not do what it was told is a field job: raise it like any other alarm.
      onRelayFault: (f) =>
        alarms.store.raise({ rule: 'relay_fault', subject: `${f.module}/ch${f.channel}`, severity: 'major', condition: f.kind, message: f.message }),
      // A customer that cannot be charged (the others were) needs a person: an alarm on that customer with the reason.
      onChargeFailure: (f) =>
        alarms.store.raise({
          rule: 'billing_charge',
          subject: `customer:${f.customerId}`,
          severity: 'major',
          condition: 'charge-failed',
          message: `prepaid charging of ${f.customerId} failed: ${f.reason}`,
        }),
    });
    // The utility's limits reach the edge cycle as `utility/*` channels (src/csip/utility-channels.ts).
    // The ramp's rated power: the PV assets' ratings, each replaced by its SunSpec WMax once scanned.
    const pvRatedW = (): number | undefined => {
      const pv = (config.control?.assets ?? []).flatMap((a) => (a.type === 'pv' ? [a] : []));
      if (pv.length === 0) return undefined;
      const wMax = new Map(site.sunspec.status().map((d) => [d.component, d.wMax]));
      return pv.reduce((sum, a) => sum + (wMax.get(a.component) ?? a.ratedW), 0);
    };
    // Its reports come from the site's DERs (control.assets, SunSpec devices) and the process image.
    const utility = config.csip?.enabled
      ? new UtilityRuntime(
          config.csip,
          site.image,
          clock,
          {
            control: config.control,
            sunspec: site.sunspec,
            storagePath: config.storage.path,
            controllers: () => control?.controllerConfigList() ?? [],
          },
          pvRatedW,
        )
      : null;
    const compliance = utility ? complianceRecorder(utility, { db, config, image: site.image }) : null;
    if (compliance) cleanups.push(() => compliance.save(clock()));
    // The central system is made before the edge cycle, which steers its chargers (docs/ocpp.md); it listens later.
    const ocppConfig = config.ocpp;
    const ocpp = ocppConfig?.enabled
      ? new CentralSystem({ config: ocppConfig, db, ledger: billing.ledger, timeZone: config.site.timezone, clock, log: (m) => log.warn(m), image: site.image })
      : null;
    const control = config.control?.enabled
      ? new ControlRuntime({
          config: config.control,
          timeZone: config.site.timezone,
          site,
          db,
          audit: billing.audit,
          alarms: alarms.store,
          relays: billing.relays,
          clock,
          hooks: o.controlHooks,
          claims,
          businessOpen: (meter) => billing.gate.isDisconnected(meter),
          onEscalation: (e) => billing.smsEscalation(e),
          ...(ocpp ? { evChargers: ocpp } : {}),
        })
      : null;
    // The uplink starts after the HTTP server; the figures ask for it when read.
    let uplink: RunningUplink | null = null;
    const figures = siteFigures({
      siteId: config.site.id,
      version: VERSION,
      clock,
      site,
      control,
      alarms: alarms.store,
      hasUplink: config.uplink?.enabled === true,
      uplink: () => uplink?.status() ?? null,
    });
    const metrics = config.metrics?.enabled ? prometheusRegistry(figures) : null;
    if (metrics) cleanups.push(() => metrics.close());
    // The one approvals queue: the HTTP routes and the remote commands use the same sources.
    const approvalSources = [supplyApprovalSource(billing.gate, billing.gate.proposalTtlMs), ...(control ? [controlApprovalSource(control)] : [])];
    let requestRestart: (why: string) => void = () => undefined;
    const restartRequested = new Promise<string>((resolve) => (requestRestart = resolve));
    const http = await createApiServer({
      site,
      users,
      version: VERSION,
      trustProxy: config.http.trustProxy,
      secureCookie: config.http.secureCookies,
      extraRoutes: [
        (routes) => registerHistoryRoutes(routes, site, history),
        (routes) => registerProfileRoutes(routes, resolved.profiles),
        commissioning.registerRoutes,
        (routes) => registerAlarmRoutes(routes, alarms),
        (routes) =>
          registerFleetRoutes(routes, {
            site,
            db,
            openAlarms: (key) => alarms.store.list({ state: 'open', meter: key }).length,
            inventory: () => commissioning.inventory.list({}),
            storeFigures: (keys, nowMs, pollMs, timeZone) => orBusy(null, history.run('fleet', keys, nowMs, pollMs, timeZone)),
          }),
        ...(simHandle ? [(routes: RouteRegistry) => registerSimRoutes(routes, simHandle)] : []),
        billing.registerRoutes,
        ...(control
          ? [
              (routes: RouteRegistry) =>
                registerControlRoutes(routes, control, billing.audit, { component: (c) => site.image.component(c), now: clock }, (q, req, reply) =>
                  sendEncoded(reply, JSON_TYPE, history.runEncoded(acceptedEncoding(req), 'auditPage', q)),
                ),
            ]
          : []),
        (routes) => registerApprovalRoutes(routes, approvalSources),
        (routes) => registerUtilityRoutes(routes, utility, clock, compliance),
        (routes) => registerMetricsRoute(routes, config.metrics, metrics),
        (routes) => registerUplinkRoutes(routes, { configured: config.uplink?.enabled === true, status: () => uplink?.status() ?? null, now: clock }),
        (routes) => registerOperatorOverviewRoutes(routes, { site, db, alarms: alarms.store, ledger: billing.ledger, gate: billing.gate, now: clock }),
      ],
      streamSources: [...commissioning.streamSources, alarmStreamSource(alarms)],
    });
    cleanups.push(() => http.close());
    cleanups.push(() => recorder.stop());
    cleanups.push(() => site.stop());
    const host = o.httpHost ?? config.http.host;
    await http.listen({ host, port: o.httpPort ?? config.http.port });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    recorder.start();
    site.start();
    if (utility) {
      utility.start();
      cleanups.push(() => utility.stop());
    }
    control?.start();
    // The uplink: telemetry to the operator's broker through a durable queue; a full queue drops its oldest, alarmed.
    const uplinkConfig = config.uplink;
    if (uplinkConfig?.enabled && !place.onDisk) log.warn('the uplink waits for room on the data disk (its queue is a file there)');
    if (uplinkConfig?.enabled && place.onDisk) {
      const started = startUplink({
        config: uplinkConfig,
        siteId: config.site.id,
        storagePath: config.storage.path,
        image: site.image,
        live: site.live,
        clock,
        log,
        onDrop: (n, total) =>
          alarms.store.raise({
            rule: 'uplink_queue_full',
            subject: 'uplink',
            severity: 'major',
            condition: 'dropped',
            message: `uplink queue full: ${n} oldest messages dropped (${total} in all)`,
          }),
      });
      uplink = started;
      cleanups.push(() => started.stop());
      if (uplinkConfig.commands.enabled) {
        const remote = startRemote({
          uplink: started.uplink,
          config: uplinkConfig.commands,
          db,
          users,
          control,
          meters: commissioning.manager,
          approvals: approvalSources,
          audit: billing.audit,
          clock,
          version: VERSION,
          restart: (why) => {
            log.warn({ why }, 'restart requested by a remote command');
            requestRestart(why);
          },
          every: (name, ms, fn) => scheduler.every(name, ms, fn),
          log: (m) => log.warn(m),
        });
        cleanups.push(() => remote.stop());
      }
      if (uplinkConfig.health.enabled) {
        const dataDir = path.dirname(config.storage.path);
        const format = uplinkConfig.format;
        const removeHealth = scheduler.every('uplink health', uplinkConfig.health.periodMs, () =>
          publishHealth({ figures, uplink: started.uplink, format, dataDir, clock }),
        );
        cleanups.push(() => removeHealth());
      }
    }
    if (mobileMoney) mobileMoney.setSiteUrl(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
    // The demo's billing is seeded once, on its first start, before the charging timer runs.
    if (demo)
      await seedDemoBilling({ db, config, billing, recorder, clock, log, mobileMoney }).catch((err: unknown) =>
        log.error({ err }, 'demo: seeding billing failed; the demo runs without it'),
      );
    billing.start();
    // Stopped first: no charging run or relay command while the buses and the database close.
    cleanups.push(() => billing.close());
    if (control) cleanups.push(() => control.stop());
    const scadaConfig = config.scada;
    const scada = scadaConfig?.enabled
      ? await startScadaServer({
          config: scadaConfig,
          image: site.image,
          control,
          openAlarms: () => alarms.store.list({ state: 'open' }).map((a) => a.severity),
          log: (m) => log.warn(m),
        })
      : null;
    if (scada) cleanups.push(() => scada.close());
    if (ocpp) {
      await ocpp.listen();
      cleanups.push(() => ocpp.close());
    }
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    log.info({ url, meters: site.meterList().length, buses: config.buses.length, db: config.storage.path }, 'mgos running');
    const storage = { ...place, roomOnDisk };
    return {
      url,
      adminPassword,
      config,
      site,
      recorder,
      db,
      sim,
      http,
      commissioning,
      alarms,
      billing,
      control,
      utility,
      scada,
      ocpp,
      storage,
      restartRequested,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
