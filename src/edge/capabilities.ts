import { z } from '#zod';

/**
 * Capabilities, not devices (docs/architecture.md): controllers see what an asset can do, resolved from the
 * site configuration and the profile's declaration, never a register or a model name. A new device
 * model is data; a new capability is one small interface here.
 */
export const PHASES = ['L1', 'L2', 'L3'] as const;
export type Phase = (typeof PHASES)[number];

/** Power at the connection point: `grid/ActivePower` (import positive), per phase where metered. */
export interface GridMeter {
  readonly kind: 'grid-meter';
  readonly component: string;
  readonly perPhase: boolean;
}

/** A battery inverter that follows a real power setpoint (W, discharge positive), fast. */
export interface SetpointBattery {
  readonly kind: 'battery-setpoint';
  readonly component: string;
  /** Takes `SetActivePower_L1..L3` (each phase on its own) instead of one symmetric `SetActivePower`. */
  readonly perPhase: boolean;
  readonly phases: 1 | 3;
  readonly maxChargeW: number;
  readonly maxDischargeW: number;
}

/**
 * A battery inverter that only switches modes and caps (SRNE HF/ASF, docs/devices.md#no-power-setpoint):
 * output priority SOL/UTI/SBU, charger priority, max charge current and max AC charge current.
 * Settings live in EEPROM: change seldom, with a minimum dwell between mode changes.
 */
export interface ModeBattery {
  readonly kind: 'battery-modes';
  readonly component: string;
  readonly phases: 1 | 3;
  readonly maxChargeW: number;
  readonly maxDischargeW: number;
  /** Battery bank voltage used to turn a power into a current cap (W / V = A). */
  readonly nominalVoltageV: number;
  readonly maxChargeCurrentA: number;
  readonly maxAcChargeCurrentA: number;
  readonly minDwellMs: number;
}
export type Battery = SetpointBattery | ModeBattery;

/** A PV inverter with an active power limit (a production cap, W), per phase where it has one. */
export interface PvInverter {
  readonly kind: 'pv-limit';
  readonly component: string;
  readonly perPhase: boolean;
  readonly phases: 1 | 3;
  readonly ratedW: number;
}

/** A generator that can be started and stopped. */
export interface Generator {
  readonly kind: 'generator';
  readonly component: string;
  readonly ratedW: number;
}

/**
 * A relay the site controller may switch: `shed` feeds non-critical loads, `critical` feeds loads
 * kept through an outage (never shed automatically), `pcc` separates the site from the grid (islanding).
 */
export interface Relay {
  readonly kind: 'relay';
  readonly component: string;
  readonly role: 'shed' | 'critical' | 'pcc';
}

/**
 * An EV charger steered through the OCPP central system (docs/ocpp.md "Smart charging"): a flexible load
 * whose charging limit (W) the cycle sets. Below `minCurrentA` per phase a car does not charge (IEC
 * 61851: 6 A), so a limit is either 0 (paused) or at least `evMinW`; dispatch writes whole amps.
 */
export interface EvCharger {
  readonly kind: 'ev-charger';
  readonly component: string;
  /** The charger's OCPP identity (the username it connects with). */
  readonly chargerId: string;
  readonly phases: 1 | 3;
  readonly voltageV: number;
  readonly minCurrentA: number;
  readonly maxW: number;
}

/** The lowest charging power a car accepts on this charger (W): the minimum current on every phase. */
export const evMinW = (c: Pick<EvCharger, 'minCurrentA' | 'voltageV' | 'phases'>): number => c.minCurrentA * c.voltageV * c.phases;

export interface SiteCapabilities {
  readonly grid: GridMeter | undefined;
  readonly batteries: readonly Battery[];
  readonly pv: readonly PvInverter[];
  readonly generators: readonly Generator[];
  readonly relays: readonly Relay[];
  readonly evChargers: readonly EvCharger[];
}

/** Command channels (the resolver's decision variables). Measured channels keep their own names. */
export const command = {
  batteryPower: (b: { component: string }, phase?: Phase): string => `${b.component}/SetActivePower${phase ? `_${phase}` : ''}`,
  batteryReactive: (b: { component: string }): string => `${b.component}/SetReactivePower`,
  pvLimit: (p: { component: string }, phase?: Phase): string => `${p.component}/ActivePowerLimit${phase ? `_${phase}` : ''}`,
  generatorRun: (g: { component: string }): string => `${g.component}/SetRunning`,
  relayClosed: (r: { component: string }): string => `${r.component}/SetClosed`,
  outputPriority: (b: { component: string }): string => `${b.component}/OutputPriority`,
  chargerPriority: (b: { component: string }): string => `${b.component}/ChargerPriority`,
  maxChargeCurrent: (b: { component: string }): string => `${b.component}/MaxChargeCurrent`,
  maxAcChargeCurrent: (b: { component: string }): string => `${b.component}/MaxAcChargeCurrent`,
  /** An EV charger's charging limit (W, >= 0; 0 pauses). */
  evLimit: (c: { component: string }): string => `${c.component}/SetChargeLimit`,
  /**
   * The offset (frequency droop) the cycle added to a command last cycle, as a snapshot channel of the same
   * component: a grid-following loop takes it out of its error so that its integral does not cancel it.
   */
  appliedOffset: (commandTarget: string): string => `${commandTarget}.AppliedOffset`,
  /** The value the cycle last dispatched to a command, as a snapshot channel: how far a lagging device still has to go. */
  commanded: (commandTarget: string): string => `${commandTarget}.Commanded`,
} as const;

/** SRNE output priority (E204) and charger priority (E20F) codes, SRNE protocol V1.96 (docs/devices.md#settings). */
export const OUTPUT_PRIORITY = { SOL: 0, UTI: 1, SBU: 2 } as const;
export const CHARGER_PRIORITY = { CSO: 0, CUB: 1, SNU: 2, OSO: 3 } as const;

const component = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a component name such as ess0');
const watts = z.number().nonnegative();

/** One asset as the site file and the device profile declare it. */
export const assetConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('grid-meter'), component, perPhase: z.boolean().default(true) }).strict(),
  z
    .object({
      type: z.literal('battery'),
      component,
      control: z.enum(['setpoint', 'modes']),
      phases: z.union([z.literal(1), z.literal(3)]).default(3),
      perPhase: z.boolean().default(false),
      maxChargeW: watts,
      maxDischargeW: watts,
      nominalVoltageV: z.number().positive().default(48),
      maxChargeCurrentA: z.number().nonnegative().default(100),
      maxAcChargeCurrentA: z.number().nonnegative().default(60),
      minDwellMs: z
        .number()
        .int()
        .nonnegative()
        .default(15 * 60_000),
    })
    .strict(),
  z
    .object({ type: z.literal('pv'), component, phases: z.union([z.literal(1), z.literal(3)]).default(3), perPhase: z.boolean().default(false), ratedW: watts })
    .strict(),
  z.object({ type: z.literal('generator'), component, ratedW: watts }).strict(),
  z.object({ type: z.literal('relay'), component, role: z.enum(['shed', 'critical', 'pcc']) }).strict(),
  z
    .object({
      type: z.literal('ev-charger'),
      component,
      chargerId: z.string().regex(/^[A-Za-z0-9_.-]{1,48}$/, 'the charger id it connects to the OCPP central system with'),
      phases: z.union([z.literal(1), z.literal(3)]).default(3),
      voltageV: z.number().min(100).max(480).default(230),
      minCurrentA: z.number().min(6).max(32).default(6),
      maxW: z.number().positive().max(350_000),
    })
    .strict(),
]);
export type AssetConfig = z.input<typeof assetConfigSchema>;

/** Resolves the capabilities of a site from its asset list; every problem is named, nothing half-resolved. */
export function resolveCapabilities(
  assets: readonly AssetConfig[],
): { readonly ok: true; readonly caps: SiteCapabilities } | { readonly ok: false; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const seen = new Set<string>();
  let grid: GridMeter | undefined;
  const batteries: Battery[] = [];
  const pv: PvInverter[] = [];
  const generators: Generator[] = [];
  const relays: Relay[] = [];
  const evChargers: EvCharger[] = [];
  assets.forEach((raw, i) => {
    const parsed = assetConfigSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`assets.${i}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
      return;
    }
    const a = parsed.data;
    if (seen.has(a.component)) problems.push(`assets.${i}: component ${a.component} is declared twice`);
    seen.add(a.component);
    switch (a.type) {
      case 'grid-meter':
        if (grid) problems.push(`assets.${i}: a second grid meter (${a.component}); use a virtual meter to sum them`);
        grid = { kind: 'grid-meter', component: a.component, perPhase: a.perPhase };
        break;
      case 'battery':
        if (a.control === 'setpoint') {
          if (a.perPhase && a.phases !== 3) problems.push(`assets.${i}: per-phase control needs phases: 3`);
          batteries.push({
            kind: 'battery-setpoint',
            component: a.component,
            perPhase: a.perPhase,
            phases: a.phases,
            maxChargeW: a.maxChargeW,
            maxDischargeW: a.maxDischargeW,
          });
        } else {
          if (a.perPhase) problems.push(`assets.${i}: a battery that only switches modes has no per-phase control`);
          batteries.push({
            kind: 'battery-modes',
            component: a.component,
            phases: a.phases,
            maxChargeW: a.maxChargeW,
            maxDischargeW: a.maxDischargeW,
            nominalVoltageV: a.nominalVoltageV,
            maxChargeCurrentA: a.maxChargeCurrentA,
            maxAcChargeCurrentA: a.maxAcChargeCurrentA,
            minDwellMs: a.minDwellMs,
          });
        }
        break;
      case 'pv':
        if (a.perPhase && a.phases !== 3) problems.push(`assets.${i}: per-phase limits need phases: 3`);
        pv.push({ kind: 'pv-limit', component: a.component, perPhase: a.perPhase, phases: a.phases, ratedW: a.ratedW });
        break;
      case 'generator':
        generators.push({ kind: 'generator', component: a.component, ratedW: a.ratedW });
        break;
      case 'relay':
        relays.push({ kind: 'relay', component: a.component, role: a.role });
        break;
      case 'ev-charger': {
        const ev: EvCharger = {
          kind: 'ev-charger',
          component: a.component,
          chargerId: a.chargerId,
          phases: a.phases,
          voltageV: a.voltageV,
          minCurrentA: a.minCurrentA,
          maxW: a.maxW,
        };
        if (a.maxW < evMinW(ev))
          problems.push(`assets.${i}: maxW ${a.maxW} is below the minimum charging power ${evMinW(ev)} W (minCurrentA x voltageV x phases)`);
        if (evChargers.some((x) => x.chargerId === a.chargerId)) problems.push(`assets.${i}: charger ${a.chargerId} is declared twice`);
        evChargers.push(ev);
        break;
      }
    }
  });
  if (relays.filter((r) => r.role === 'pcc').length > 1) problems.push('assets: more than one pcc relay');
  return problems.length ? { ok: false, problems } : { ok: true, caps: { grid, batteries, pv, generators, relays, evChargers } };
}
