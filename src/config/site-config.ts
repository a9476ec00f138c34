import { isIP } from 'node:net';
import { z } from '#zod';
import { CURRENCY_CODES } from '../billing/money.js';
import { alarmConfigSchema } from '../alarms/alarm-config.js';
import { commissioningConfigSchema } from '../commissioning/commissioning-config.js';
import { uplinkConfigSchema } from '../uplink/uplink-config.js';
import { busSchema, meterSchema, meterSchemaFor, name } from './bus-meter-schemas.js';
import { calendarDate } from '../util/calendar-date.js';
import { timeZoneSchema } from './time-zone.js';
import { controlConfigSchema } from '../edge/control-config.js';
import { scadaConfigSchema } from '../scada/scada-config.js';
import { ocppConfigSchema } from '../ocpp/ocpp-config.js';
import { csipConfigSchema } from '../csip/csip-config.js';

export { busSchema, meterSchema, meterSchemaFor, METER_TYPE_ALIASES } from './bus-meter-schemas.js';
import { metricsConfigSchema } from '../metrics/metrics-config.js';

/**
 * The site configuration file. The `meters` list keeps the shape of the field team's
 * config.prod.yaml (id, name, type, enabled) so existing files carry over; the rest has defaults.
 */
export const simSchema = z
  .object({
    enabled: z.boolean().default(false),
    seed: z.number().int().default(1),
    /** Customer meters to simulate when `meters` is empty (demo mode); single-phase addresses are 2-99. */
    customers: z.number().int().min(0).max(98).default(24),
    /** Emulate RS-485 wire time at this baud rate (0 = answer at once). */
    lineSpeedBaud: z.number().int().min(0).default(0),
    turnaroundMs: z.number().min(0).default(5),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(5020),
    /** On a first start (empty database), fill this many days of simulated history so charts have data. */
    backfillDays: z.number().min(0).max(31).default(0),
    /** Also serve the simulated bus on these serial devices (e.g. one end of a socat pty pair). */
    serialPaths: z.array(z.string()).default([]),
    /** Put a simulated relay module (8 channels, NC wiring) per group of customer meters on the simulated bus. */
    relays: z.boolean().optional(),
    /**
     * A battery inverter, PV and a generator at the main bus (issue 10), on their own Modbus line served
     * over Modbus TCP (`mbapPort`, 0 = a free one). Absent: the site is loads only, as before.
     */
    energy: z
      .object({
        inverter: z.enum(['generic', 'srne']).default('generic'),
        /** SRNE model family (profile variant): HF, ASF, ASP, SPLIT_EU, HESP. */
        srneVariant: z.string().default('HF'),
        phases: z
          .array(z.enum(['L1', 'L2', 'L3']))
          .min(1)
          .optional(),
        capacityWh: z.number().positive().default(15_360),
        initialSoc: z.number().min(0).max(1).default(0.6),
        maxPowerW: z.number().positive().default(6000),
        /** Response time: 95 % of a power step after this long. */
        responseMs: z.number().min(0).max(60_000).default(600),
        rampWPerS: z.number().positive().default(20_000),
        pvPeakWPerPhase: z.number().min(0).default(1500),
        cloudiness: z.number().min(0).max(1).default(0.5),
        generatorW: z.number().min(0).default(0),
        inverterAddress: z.number().int().min(1).max(247).default(1),
        generatorAddress: z.number().int().min(1).max(247).default(2),
        /** A DTSU666 at the connection point on the inverter line, read every control cycle (0 = none). */
        gridMeterAddress: z.number().int().min(0).max(247).default(3),
        mbapPort: z.number().int().min(0).max(65535).default(0),
      })
      .strict()
      .optional(),
  })
  .strict();

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24 h');

/** Prepaid charging and the ledger's currency (billing-runtime applies the defaults). */
export const billingConfigSchema = z
  .object({
    currency: z.enum(CURRENCY_CODES).default('UGX'),
    /** The largest payment one account may receive at once, in minor units of the currency (default 100,000,000). */
    maxPaymentMinor: z.number().int().positive().max(1e13).default(100_000_000),
    /** Credit levels (minor units) at which the customer is warned by SMS. */
    lowBalanceThresholdsMinor: z.array(z.number().int().positive()).default([5000, 1000]),
    /** How often new intervals are charged to prepaid accounts. */
    chargeEveryMs: z.number().int().min(100).max(3_600_000).default(60_000),
    /**
     * Also count the energy of intervals that have not closed yet (from raw counter readings) against the
     * available credit, so a prepaid customer reaches zero within a charging run instead of up to 15 min
     * late. Nothing is posted for it: the ledger is charged only for closed intervals.
     */
    provisionalFromRawReadings: z.boolean().default(false),
    /** Charge prepaid customers the tariff's fixed monthly charge and fees too, one local day at a time. */
    chargeFixedToPrepaid: z.boolean().default(true),
  })
  .strict();

/** When a disconnect may happen and who decides it. */
export const governanceConfigSchema = z
  .object({
    disconnectAutonomy: z.enum(['supervised', 'autonomous', 'manual']).default('supervised'),
    noDisconnectWindows: z.array(z.object({ from: hhmm, to: hhmm }).strict()).default([{ from: '18:00', to: '08:00' }]),
    /** Local weekdays with no disconnects, 0 = Sunday. */
    noDisconnectWeekdays: z.array(z.number().int().min(0).max(6)).default([0, 6]),
    holidays: z.array(calendarDate).default([]),
    /**
     * At L2, whether a reconnect after payment runs without a person (`unattended`, the default: it
     * restores supply, rule `restore-supply` in src/governance/decide.ts) or waits for approval (`supervised`).
     */
    reconnectAtL2: z.enum(['unattended', 'supervised']).default('unattended'),
    /** Operators' phone numbers told by SMS when an autonomous (L3) capability escalates to L2. */
    escalationSms: z.array(z.string().regex(/^\+?\d{7,15}$/, 'a phone number such as +256700000000')).default([]),
  })
  .strict();

export const relayModuleConfigSchema = z
  .object({
    bus: name,
    address: z.number().int().min(1).max(247),
    model: z.enum(['waveshare-8ch-nc', 'waveshare-8ch-no', 'unbranded-4ch-no']),
    channels: z.array(z.object({ channel: z.number().int().min(1).max(32), meter: z.number().int().min(1).max(247) }).strict()).min(1),
  })
  .strict();

const feeConfigSchema = z
  .object({
    bearer: z.enum(['customer', 'operator']).default('operator'),
    schedules: z
      .array(
        z
          .object({
            effectiveFromMs: z.number().int().nonnegative(),
            bands: z
              .array(
                z
                  .object({
                    upToMinor: z.number().int().positive().nullable(),
                    fixedMinor: z.number().int().nonnegative(),
                    percentBp: z.number().int().min(0).max(10_000),
                  })
                  .strict(),
              )
              .min(1),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

/** Payment providers; cash is always on, mobile money only when configured. */
export const paymentsConfigSchema = z
  .object({
    cash: z
      .object({ fees: feeConfigSchema.default({ bearer: 'operator', schedules: [] }) })
      .strict()
      .optional(),
    mtn: z
      .object({
        baseUrl: z.url(),
        subscriptionKey: z.string().min(1),
        apiUserId: z.string().min(1),
        apiKey: z.string().min(1),
        targetEnvironment: z.string().min(1),
        callbackUrl: z.string().optional(),
        fees: feeConfigSchema.default({ bearer: 'operator', schedules: [] }),
      })
      .strict()
      .optional(),
    airtel: z
      .object({
        baseUrl: z.url(),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        country: z.string().min(2),
        currency: z.string().length(3),
        callbackKey: z.string().optional(),
        fees: feeConfigSchema.default({ bearer: 'operator', schedules: [] }),
      })
      .strict()
      .optional(),
    pesapal: z
      .object({
        baseUrl: z.url(),
        consumerKey: z.string().min(1),
        consumerSecret: z.string().min(1),
        ipnUrl: z.url(),
        callbackUrl: z.url(),
        countryCode: z.string().min(2),
        fees: feeConfigSchema.default({ bearer: 'operator', schedules: [] }),
      })
      .strict()
      .optional(),
    /** How often pending mobile-money payments are re-queried. */
    sweepEveryMs: z.number().int().min(1000).default(60_000),
  })
  .strict();

/** A trusted proxy as fastify's trustProxy takes it: an address, a CIDR range, or a named range. */
const proxyAddress = z.string().refine(
  (v) => {
    const [addr, bits, ...rest] = v.split('/');
    if (['loopback', 'linklocal', 'uniquelocal'].includes(v)) return true;
    const family = isIP(addr ?? '');
    if (family === 0 || rest.length > 0) return false;
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  },
  { error: 'must be an IP address or CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8), or loopback, linklocal, uniquelocal' },
);

export const siteConfigSchemaFor = (knownTypes?: readonly string[]) =>
  z
    .object({
      site: z.object({ id: name, name: z.string().min(1), timezone: timeZoneSchema.default('UTC') }).strict(),
      poll: z
        .object({ intervalMs: z.number().int().min(1000).max(3_600_000).default(10_000) })
        .strict()
        .default({ intervalMs: 10_000 }),
      storage: z
        .object({
          path: z.string().default('data/mgos.db'),
          rawRetentionDays: z.number().int().min(1).default(90),
          /** Readings are written in batches to spare the SD card; at most this much is lost on a power cut. */
          flushIntervalMs: z.number().int().min(0).max(600_000).default(30_000),
        })
        .strict()
        .default({ path: 'data/mgos.db', rawRetentionDays: 90, flushIntervalMs: 30_000 }),
      http: z
        .object({
          host: z.string().default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(8080),
          /** Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); none by default. */
          trustProxy: z.array(proxyAddress).default([]),
          /** The session cookie gets the Secure flag: set when the site is reached over HTTPS (a TLS proxy). */
          secureCookies: z.boolean().default(false),
        })
        .strict()
        .default({ host: '127.0.0.1', port: 8080, trustProxy: [], secureCookies: false }),
      profiles: z.array(z.string()).default([]),
      buses: z.array(busSchema).default([]),
      meters: z.array(meterSchemaFor(knownTypes)).default([]),
      sim: simSchema.optional(),
      commissioning: commissioningConfigSchema.default(() => commissioningConfigSchema.parse({})),
      alarms: alarmConfigSchema.default(() => alarmConfigSchema.parse({})),
      /** The MQTT v5 uplink: SenML telemetry with a durable queue (src/uplink/uplink-config.ts, docs/uplink.md). */
      uplink: uplinkConfigSchema.optional(),
      /** Billing, governance, relays and payments: optional, defaults applied where they are used. */
      billing: billingConfigSchema.optional(),
      governance: governanceConfigSchema.optional(),
      relays: z.array(relayModuleConfigSchema).optional(),
      payments: paymentsConfigSchema.optional(),
      /** The edge cycle: devices it steers, controllers, safety limits, autonomy (src/edge/control-config.ts). */
      control: controlConfigSchema.optional(),
      /** The Modbus TCP server for SCADA, off by default (src/scada/scada-config.ts, docs/scada-modbus.md). */
      scada: scadaConfigSchema.optional(),
      /** The OCPP 1.6J central system for EV chargers, off by default (src/ocpp/ocpp-config.ts, docs/ocpp.md). */
      ocpp: ocppConfigSchema.optional(),
      /** The IEEE 2030.5 / CSIP-AUS client for the utility's limits (src/csip/csip-config.ts, docs/csip.md). */
      csip: csipConfigSchema.optional(),
      /** The Prometheus endpoint GET /metrics, off unless configured with a token (src/metrics/metrics-config.ts, docs/metrics.md). */
      metrics: metricsConfigSchema.optional(),
    })
    .strict()
    .superRefine((cfg, ctx) => {
      const busIds = new Set(cfg.buses.map((b) => b.id));
      const seenName = new Map<string, number>();
      const seenId = new Map<number, number>();
      const seenAddress = new Map<string, number>();
      cfg.meters.forEach((m, i) => {
        const bus = m.bus ?? cfg.buses[0]?.id;
        if (m.bus !== undefined && !busIds.has(m.bus)) {
          ctx.addIssue({
            code: 'custom',
            path: ['meters', i, 'bus'],
            message: `no bus "${m.bus}" is defined; allowed: ${[...busIds].join(', ') || '(define one under buses:)'}`,
          });
        }
        const prevName = seenName.get(m.name);
        if (prevName !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['meters', i, 'name'],
            message: `name "${m.name}" is already used by meters[${prevName}]; names must be unique`,
          });
        }
        seenName.set(m.name, i);
        const prevId = seenId.get(m.id);
        if (prevId !== undefined && (cfg.meters[prevId]?.bus ?? cfg.buses[0]?.id) !== bus) {
          ctx.addIssue({
            code: 'custom',
            path: ['meters', i, 'id'],
            message: `id ${m.id} is already used by meters[${prevId}] on another bus; ids are unique in a site (set address: to reuse a Modbus address on another bus)`,
          });
        }
        seenId.set(m.id, i);
        const address = m.address ?? m.id;
        const key = `${bus}:${address}`;
        const prevAddr = seenAddress.get(key);
        if (prevAddr !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['meters', i, m.address === undefined ? 'id' : 'address'],
            message: `address ${address} is already used on bus ${bus} by meters[${prevAddr}]; each meter on a bus needs its own address`,
          });
        }
        seenAddress.set(key, i);
      });
      // Checked here, not when the relays are wired: by then the database and the first admin exist.
      const relayBuses = cfg.buses.length === 0 && cfg.sim?.enabled ? new Set(['sim']) : busIds;
      cfg.relays?.forEach((r, i) => {
        if (!relayBuses.has(r.bus))
          ctx.addIssue({
            code: 'custom',
            path: ['relays', i, 'bus'],
            message: `no bus "${r.bus}" is defined; allowed: ${[...relayBuses].join(', ') || '(define one under buses:)'}`,
          });
      });
      // An EV charger the edge cycle steers reaches it only through the central system.
      const chargers = new Set(cfg.ocpp?.enabled ? cfg.ocpp.chargers.map((c) => c.id) : []);
      cfg.control?.assets.forEach((a, i) => {
        if (a.type !== 'ev-charger' || chargers.has(a.chargerId)) return;
        ctx.addIssue({
          code: 'custom',
          path: ['control', 'assets', i, 'chargerId'],
          message: cfg.ocpp?.enabled
            ? `no charger "${a.chargerId}" under ocpp.chargers; allowed: ${[...chargers].join(', ') || '(add it there)'}`
            : `charger "${a.chargerId}" is steered through OCPP; enable the ocpp section and list it under ocpp.chargers`,
        });
      });
      if (cfg.meters.length > 0 && cfg.buses.length === 0 && !cfg.sim?.enabled) {
        ctx.addIssue({ code: 'custom', path: ['buses'], message: 'meters are configured but no bus is; add a bus under buses:' });
      }
    });

export const siteConfigSchema = siteConfigSchemaFor();

export type SiteConfig = z.output<typeof siteConfigSchema>;
export type { BusConfig } from './bus-meter-schemas.js';
export type MeterConfig = z.output<typeof meterSchema>;
