import type { LimitSource, Quantity } from './schedule.js';

/**
 * The limits in force as channels of the process image (component `utility`), so that the edge cycle
 * reads them like any measurement: `utility/ExportLimitW` (W), `GenerationLimitW`, `ImportLimitW`,
 * `LoadLimitW`, `MaxLimitPct` (% of rated power), `StorageTargetW` (the battery's power the utility asks
 * for, W, discharge positive), `Connect` and `Energize` (1 or 0). Beside each,
 * `<name>Source`: 1 an event, 2 a DefaultDERControl, 3 the site's fallback (the event's mRID is in
 * GET /api/utility; the image holds numbers only). A quantity nobody sets has no channel.
 */
export const UTILITY_COMPONENT = 'utility';

export const UTILITY_CHANNEL: Readonly<Record<Quantity, string>> = {
  opModExpLimW: 'ExportLimitW',
  opModGenLimW: 'GenerationLimitW',
  opModImpLimW: 'ImportLimitW',
  opModLoadLimW: 'LoadLimitW',
  opModMaxLimW: 'MaxLimitPct',
  opModStorageTargetW: 'StorageTargetW',
  opModConnect: 'Connect',
  opModEnergize: 'Energize',
};

export const SOURCE_CODE: Readonly<Record<LimitSource['kind'], number>> = { event: 1, default: 2, fallback: 3 };

/** Written every evaluation, so a reader can tell "no limit" (present, no quantity) from "no client" (missing or STALE). */
export const EVALUATED_CHANNEL = 'Evaluated';
