import type { Controller, Criticality } from './proposal.js';
import { backupReserve, BACKUP_START } from '../controllers/backup-reserve.js';
import { chargeOnly, CHARGE_ONLY_START } from '../controllers/charge-only.js';
import { chargeSchedule, CHARGE_SCHEDULE_START } from '../controllers/charge-schedule.js';
import { evSurplus, EV_SURPLUS_START } from '../controllers/ev-surplus.js';
import { externalControl, EXTERNAL_START } from '../controllers/external-control.js';
import { frequencyDroop, DROOP_START } from '../controllers/frequency-droop.js';
import { generatorControl, GENERATOR_START } from '../controllers/generator.js';
import { manualSetpoint, MANUAL_START } from '../controllers/manual-setpoint.js';
import { passive, PASSIVE_START } from '../controllers/passive.js';
import { peakShaving, PEAK_SHAVING_START } from '../controllers/peak-shaving.js';
import { selfConsumption, SELF_CONSUMPTION_START } from '../controllers/self-consumption.js';
import { utilityLimits, UTILITY_LIMITS_START } from '../controllers/utility-limits.js';
import { zeroExport, ZERO_EXPORT_START } from '../controllers/zero-export.js';

/**
 * Controller kinds -> their pure function and start state. Loaded by the control worker (which runs
 * them) and by the main thread (for the criticality class a kind gets by default). A test adds kinds
 * through a module it names in `ControlTestHooks.modules` (exporting `controllers` of this shape).
 */
export interface ControllerKindDef {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly run: Controller<any, any>;
  readonly start: unknown;
  /** The class a controller of this kind is in by default (DESIGN.md: criticality from the kind). */
  readonly criticality: Criticality;
}

export const CONTROLLER_KINDS: Readonly<Record<string, ControllerKindDef>> = {
  'self-consumption': { run: selfConsumption, start: SELF_CONSUMPTION_START, criticality: 'optimisation' },
  'peak-shaving': { run: peakShaving, start: PEAK_SHAVING_START, criticality: 'business' },
  'zero-export': { run: zeroExport, start: ZERO_EXPORT_START, criticality: 'supply-quality' },
  'charge-only': { run: chargeOnly, start: CHARGE_ONLY_START, criticality: 'business' },
  'backup-reserve': { run: backupReserve, start: BACKUP_START, criticality: 'supply-quality' },
  'external-control': { run: externalControl, start: EXTERNAL_START, criticality: 'business' },
  'manual-setpoint': { run: manualSetpoint, start: MANUAL_START, criticality: 'business' },
  passive: { run: passive, start: PASSIVE_START, criticality: 'optimisation' },
  'charge-schedule': { run: chargeSchedule, start: CHARGE_SCHEDULE_START, criticality: 'optimisation' },
  'frequency-droop': { run: frequencyDroop, start: DROOP_START, criticality: 'supply-quality' },
  // Generator operation is supply quality (src/governance/actions.ts CAPABILITY_CLASS).
  generator: { run: generatorControl, start: GENERATOR_START, criticality: 'supply-quality' },
  // Above business and optimisation, below the safety envelope (docs/csip.md "On the site").
  'utility-limits': { run: utilityLimits, start: UTILITY_LIMITS_START, criticality: 'supply-quality' },
  // EV charging from the surplus is optimisation; its import cap is a business bound of its own.
  'ev-surplus': { run: evSurplus, start: EV_SURPLUS_START, criticality: 'optimisation' },
};
