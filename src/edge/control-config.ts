import { z } from '#zod';
import { ASSET_CAPABILITIES } from '../governance/actions.js';
import { sunspecDeviceSchema } from '../sunspec/sunspec-config.js';
import { assetConfigSchema } from './capabilities.js';
import { CRITICALITY } from './proposal.js';

/**
 * The site file's `control:` section (issue 10): which devices the edge cycle steers, what each one
 * can do, which controllers run with which settings, the safety limits per asset, and the autonomy
 * level of each capability on each asset. Validated as a whole with the rest of the file.
 */
const component = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a component name such as ess0');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24 h');
const window = z.object({ from: hhmm, to: hhmm, weekdays: z.array(z.number().int().min(0).max(6)).optional() }).strict();
const level = z.enum(['L1', 'L2', 'L3']);
/** Bounds any power a mini-grid has (10 MW either way): a typo such as 1e308 is refused, not carried into the cycle. */
const MAX_W = 10_000_000;
const powerW = (): z.ZodNumber => z.number().min(-MAX_W, 'must be at least -10,000,000 W').max(MAX_W, 'must be at most 10,000,000 W');
/** Durations: at most a week. */
const durationMs = (): z.ZodNumber =>
  z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400_000, 'must be at most a week (604,800,000 ms)');
/** Grid frequencies a setting can name. */
const hz = (): z.ZodNumber => z.number().min(40, 'must be at least 40 Hz').max(70, 'must be at most 70 Hz');
/** A time of the site's clock (ms since 1970), up to the year 9999. */
const epochMs = (): z.ZodNumber => z.number().int().min(0).max(253_402_300_799_999);

/** A device the site polls every control period (on a bus of the site, or the simulator's `energy` line). */
export const controlDeviceSchema = z
  .object({
    component,
    /** A storage or meter profile model: GENERIC-ESS, SRNE-HYBRID, GENERIC-GENSET, DTSU666, ... */
    profile: z.string().min(1),
    bus: z.string().min(1),
    address: z.number().int().min(1).max(247),
    /** Where the device's sub-components go, e.g. { pv: pv0 }; unnamed ones become `<component>_<kind>`. */
    subComponents: z.record(z.string(), component).default({}),
  })
  .strict();

const common = { id: component, enabled: z.boolean().default(true), criticality: z.enum(CRITICALITY).optional() };
const battery = { battery: component.optional() };
const loop = z
  .object({
    deadbandW: powerW().min(0),
    rampWPerS: powerW().positive(),
    ki: z.number().min(0).max(1),
    settledTolW: powerW().min(0),
    integralLimitW: powerW().min(0),
    integralZoneW: powerW().min(0),
  })
  .partial()
  .strict();

/** One controller: its kind decides its code and its default criticality class. */
export const controllerConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('self-consumption'), ...common, ...battery, targetW: powerW().default(0), loop: loop.optional() }).strict(),
  z
    .object({
      kind: z.literal('peak-shaving'),
      ...common,
      ...battery,
      pv: component.optional(),
      importLimitW: powerW().min(0).optional(),
      exportLimitW: powerW().min(0).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('zero-export'),
      ...common,
      ...battery,
      pv: component.optional(),
      marginW: powerW().min(0).optional(),
      /** When it is night for PV: nothing probed, the limit held still (src/controllers/pv-night.ts). */
      night: z
        .object({
          darkW: powerW().min(0).max(10_000).optional(),
          afterMs: durationMs().max(86_400_000).optional(),
          watchW: powerW().min(0).optional(),
          /** Daylight hours in the site's time zone; outside them no probing. */
          daylight: window.optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('charge-only'),
      ...common,
      ...battery,
      socTargetPct: z.number().min(0).max(100),
      rateW: powerW().positive(),
      window: window.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('backup-reserve'),
      ...common,
      ...battery,
      floorPct: z.number().min(0).max(100),
      confirmMs: durationMs().optional(),
      returnStableMs: durationMs().optional(),
      restoreHoldMs: durationMs().optional(),
      minHz: hz().optional(),
      maxHz: hz().optional(),
      /** Grid charging rate back to the floor (W); none by default. */
      rechargeW: powerW().positive().optional(),
      rechargeHysteresisPct: z.number().min(0).max(50).optional(),
      /** Shedding stages while islanded, in order (relay components of role shed); one stage per shed relay by default. */
      shedStages: z
        .array(z.object({ relays: z.array(component).min(1), socPct: z.number().min(0).max(100).optional() }).strict())
        .min(1)
        .optional(),
      shedHysteresisPct: z.number().min(0).max(50).optional(),
      shedDwellMs: durationMs().max(3_600_000).optional(),
      restoreStepMs: durationMs().max(600_000).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('external-control'),
      ...common,
      ...battery,
      schedule: z.array(z.object({ fromMs: epochMs(), toMs: epochMs(), activeW: powerW(), reactiveVar: powerW().optional() }).strict()).default([]),
    })
    .strict(),
  z
    .object({ kind: z.literal('manual-setpoint'), ...common, ...battery, setpointW: powerW(), setBy: z.string().min(1), untilMs: epochMs().optional() })
    .strict(),
  z.object({ kind: z.literal('passive'), ...common }).strict(),
  z
    .object({
      kind: z.literal('utility-limits'),
      ...common,
      ...battery,
      pv: component.optional(),
      /** Kept inside the utility's export and import limits (W). */
      marginW: powerW().min(0).optional(),
      /** The utility's export limit holds on each phase too (SA Power Networks): each at most exportPhaseLimitW, or a third of the limit. */
      exportPerPhase: z.boolean().optional(),
      exportPhaseLimitW: powerW().min(0).optional(),
      /** How long the import (or the site's load) stays above what the battery and EV charging cover before the next non-critical relay opens (ms). */
      shedAfterMs: durationMs().optional(),
      /** How long the import and the site's load stay restoreMarginW under their limits before the last shed relay closes (ms). */
      restoreAfterMs: durationMs().optional(),
      restoreMarginW: powerW().min(0).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ev-surplus'),
      ...common,
      ...battery,
      /** The EV charger assets it steers, in the order they share the surplus (default: all). */
      chargers: z.array(component).min(1).optional(),
      mode: z.enum(['surplus', 'min-surplus', 'fast', 'off']).default('surplus'),
      /** battery: the battery takes the surplus first; ev: battery charging counts as surplus for the cars. */
      priority: z.enum(['battery', 'ev']).default('battery'),
      /** Kept exported in surplus mode (W). */
      marginW: powerW().min(0).max(10_000).optional(),
      /** While charging, what a car may take from the grid before the stop delay starts (W). */
      hysteresisW: powerW().min(0).max(10_000).optional(),
      /** How long the surplus must cover a car's minimum before it starts, and be short before it pauses (ms). */
      startDelayMs: durationMs().max(3_600_000).optional(),
      stopDelayMs: durationMs().max(3_600_000).optional(),
      /** How long a car's limit is held after it changed, while the car follows it (ms). */
      settleMs: durationMs().max(600_000).optional(),
      /** The site's own import cap (W): the cars never push the grid past it. */
      importLimitW: powerW().min(0).optional(),
      /** How old a charger's reported power may be (ms); chargers report every minute or so. */
      evMaxAgeMs: durationMs().min(1000).max(900_000).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('charge-schedule'),
      ...common,
      ...battery,
      entries: z.array(z.object({ window, powerW: powerW(), stopSocPct: z.number().min(0).max(100).optional() }).strict()).min(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal('frequency-droop'),
      ...common,
      ...battery,
      /** PV curtailed for the over-frequency response the battery cannot take. */
      pv: component.optional(),
      maxResponseW: powerW().positive(),
      f1: hz().optional(),
      f2: hz().optional(),
      f3: hz().optional(),
      f4: hz().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('generator'),
      ...common,
      ...battery,
      /** The generator asset; the first one by default. */
      generator: component.optional(),
      /** Start below this SoC during an outage (%). */
      startSocPct: z.number().min(0).max(100),
      /** Stop at or above this SoC (%), higher than startSocPct. */
      stopSocPct: z.number().min(0).max(100),
      /** What the inverter carries alone (W); the battery's maxDischargeW by default. */
      inverterCapacityW: powerW().positive().max(10_000_000).optional(),
      /** Start when the load exceeds this share of the capacity (%), stop at or below loadStopPct. */
      loadStartPct: z.number().positive().max(1000).optional(),
      loadStopPct: z.number().positive().max(1000).optional(),
      minRunMs: z
        .number()
        .int()
        .min(0)
        .max(24 * 3600_000)
        .optional(),
      minOffMs: z
        .number()
        .int()
        .min(0)
        .max(24 * 3600_000)
        .optional(),
      confirmMs: durationMs().max(3600_000).optional(),
    })
    .strict()
    .refine((g) => g.stopSocPct > g.startSocPct, {
      error: 'stopSocPct must be above startSocPct, or the generator would start and stop in turn',
      path: ['stopSocPct'],
    })
    .refine((g) => (g.loadStopPct ?? 80) < (g.loadStartPct ?? 100), {
      error: 'loadStopPct must be below loadStartPct (defaults 80 and 100), or the generator would start and stop in turn',
      path: ['loadStopPct'],
    }),
]);
export type ControllerConfig = z.output<typeof controllerConfigSchema>;
export type ControllerKind = ControllerConfig['kind'];

const batteryLimits = z
  .object({
    component,
    socMinPct: z.number().min(0).max(100).default(10),
    socMaxPct: z.number().min(0).max(100).default(100),
    rampWPerS: powerW().positive().default(20_000),
    tempMinC: z.number().optional(),
    tempMaxC: z.number().optional(),
    chargeTempMinC: z.number().optional(),
    cellVoltageMinV: z.number().optional(),
    cellVoltageMaxV: z.number().optional(),
  })
  .strict();

export const controlConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The cycle period (ms): 1 s by default. */
    periodMs: durationMs().min(100).max(60_000).default(1000),
    /**
     * How often the buses carrying control devices are read (ms); by default every period, and at least 1 s.
     * Faster reads let `stepTrigger` start the cycle soon after a step (docs/architecture.md, control latency).
     */
    pollMs: durationMs().min(100).max(60_000).optional(),
    /** Start the cycle early when a fresh reading shows a load or PV step (src/edge/step-trigger.ts). */
    stepTrigger: z
      .object({
        /** How far the grid, and the grid plus the batteries, must both move since the last cycle (W). */
        thresholdW: powerW().min(50).default(300),
        /** An early cycle starts at least this long after the previous start (ms). */
        minSpacingMs: durationMs().min(100).max(60_000).default(250),
      })
      .strict()
      .optional(),
    /** How long the controllers of one cycle may run together before the slow one is stopped (ms). */
    budgetMs: durationMs().min(5).max(5000).default(100),
    /** A measurement older than this is missing (ms). */
    maxAgeMs: durationMs().min(100).default(3000),
    /** Profile devices, and SunSpec devices (`type: sunspec`, scanned at start). */
    devices: z.array(z.union([sunspecDeviceSchema, controlDeviceSchema])).default([]),
    /** What each component can do (capabilities.ts): grid meter, batteries, PV, generator, relays. */
    assets: z.array(assetConfigSchema).default([]),
    /** Relays that shed load, by the customer meter they feed; `critical` ones are never shed automatically. */
    shedding: z.array(z.object({ meter: z.number().int().min(1).max(247), critical: z.boolean().default(false) }).strict()).default([]),
    controllers: z.array(controllerConfigSchema).default([]),
    safety: z
      .object({
        batteries: z.array(batteryLimits).default([]),
        /** Highest PV limit rise (W/s) per PV component. */
        pvRampWPerS: powerW().positive().optional(),
        /** The export limit (W) the site falls back to when its measurements are poor; 0 = no export; null = free. */
        exportLimitW: powerW().min(0).nullable().default(0),
      })
      .strict()
      .default({ batteries: [], exportLimitW: 0 }),
    /**
     * Autonomy per capability and asset (asset `site`: every asset of that capability); the rest follow
     * DEFAULT_ACTION_AUTONOMY. Billing disconnects are here too: capability supply-disconnect, asset
     * relay<meter> or site.
     */
    autonomy: z.array(z.object({ capability: z.enum(ASSET_CAPABILITIES), asset: component, level }).strict()).default([]),
    /** The emergency-stop input: a channel, pressed when it equals `pressedValue` (default 1). */
    emergencyStop: z
      .object({
        channel: z.string().regex(/^[a-z][a-z0-9_]*\/[A-Za-z0-9_]+$/, 'a channel such as io0/EmergencyStop'),
        pressedValue: z.number().default(1),
        failSafe: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /** How long an L2 proposal waits for a person (ms), and how long an approval holds (ms). */
    proposalTtlMs: z
      .number()
      .int()
      .min(10_000)
      .default(15 * 60_000),
    approvalHoldMs: z
      .number()
      .int()
      .min(10_000)
      .default(60 * 60_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.pollMs !== undefined && c.pollMs > c.periodMs)
      ctx.addIssue({
        code: 'custom',
        path: ['pollMs'],
        message: `pollMs ${c.pollMs} is longer than the cycle period ${c.periodMs}; set it to at most periodMs (or leave it out to read once a period)`,
      });
    const ids = new Set<string>();
    c.controllers.forEach((k, i) => {
      if (ids.has(k.id)) ctx.addIssue({ code: 'custom', path: ['controllers', i, 'id'], message: `controller id "${k.id}" is used twice; ids must be unique` });
      ids.add(k.id);
    });
    const comps = new Set(c.assets.map((a) => a.component));
    c.safety.batteries.forEach((b, i) => {
      if (!comps.has(b.component))
        ctx.addIssue({
          code: 'custom',
          path: ['safety', 'batteries', i, 'component'],
          message: `no asset "${b.component}"; allowed: ${[...comps].join(', ') || '(declare it under control.assets)'}`,
        });
    });
  });

export type ControlConfig = z.output<typeof controlConfigSchema>;
export type ControlConfigInput = z.input<typeof controlConfigSchema>;
