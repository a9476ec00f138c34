import { CHARGER_PRIORITY, command, OUTPUT_PRIORITY, type ModeBattery } from './capabilities.js';

/**
 * A battery that only switches modes and caps (SRNE HF/ASF, docs/devices.md#no-power-setpoint and #write-wear):
 * the resolved power intent (W, discharge positive) becomes output priority, charger priority and
 * the AC charge current cap. Settings live in EEPROM, so a mode changes at most once per
 * `minDwellMs` and a cap only in steps of `capStepA`; the dispatcher writes only what changed.
 *
 * - discharge wanted  -> SBU (battery carries the load), charger CSO (PV first), no AC charging;
 * - charge wanted     -> UTI (utility carries the load), charger SNU (PV and utility), AC cap = P / V;
 * - idle              -> UTI, charger OSO (PV only): the battery only takes PV surplus.
 */
export interface ModePlanState {
  readonly settings: Readonly<Record<string, number>> | null;
  readonly changedAtMs: number | null;
}
export const MODE_PLAN_START: ModePlanState = { settings: null, changedAtMs: null };

export interface ModePlan {
  /** Values for the mode/cap command channels (what the device should hold). */
  readonly settings: Readonly<Record<string, number>>;
  readonly state: ModePlanState;
  /** Why the wanted mode is not applied yet (the dwell), or null. */
  readonly held: string | null;
  readonly mode: 'discharge' | 'charge' | 'idle';
}

export function planModes(intentW: number, b: ModeBattery, st: ModePlanState, nowMs: number, opts: { thresholdW?: number; capStepA?: number } = {}): ModePlan {
  const threshold = opts.thresholdW ?? 200;
  const step = opts.capStepA ?? 5;
  const mode = intentW >= threshold ? 'discharge' : intentW <= -threshold ? 'charge' : 'idle';
  const acA = Math.min(b.maxAcChargeCurrentA, Math.round(Math.min(-intentW, b.maxChargeW) / b.nominalVoltageV / step) * step);
  const want: Record<string, number> =
    mode === 'discharge'
      ? {
          [command.outputPriority(b)]: OUTPUT_PRIORITY.SBU,
          [command.chargerPriority(b)]: CHARGER_PRIORITY.CSO,
          [command.maxAcChargeCurrent(b)]: 0,
          [command.maxChargeCurrent(b)]: b.maxChargeCurrentA,
        }
      : mode === 'charge'
        ? {
            [command.outputPriority(b)]: OUTPUT_PRIORITY.UTI,
            [command.chargerPriority(b)]: CHARGER_PRIORITY.SNU,
            [command.maxAcChargeCurrent(b)]: Math.max(step, acA),
            [command.maxChargeCurrent(b)]: b.maxChargeCurrentA,
          }
        : {
            [command.outputPriority(b)]: OUTPUT_PRIORITY.UTI,
            [command.chargerPriority(b)]: CHARGER_PRIORITY.OSO,
            [command.maxAcChargeCurrent(b)]: 0,
            [command.maxChargeCurrent(b)]: b.maxChargeCurrentA,
          };
  const cur = st.settings;
  if (!cur) return { settings: want, state: { settings: want, changedAtMs: nowMs }, held: null, mode };
  const changed = Object.keys(want).some((k) => want[k] !== cur[k]);
  if (!changed) return { settings: cur, state: st, held: null, mode };
  const since = st.changedAtMs === null ? Infinity : nowMs - st.changedAtMs;
  if (since < b.minDwellMs) {
    return {
      settings: cur,
      state: st,
      held: `mode change held: ${Math.ceil((b.minDwellMs - since) / 1000)} s of the ${b.minDwellMs / 60_000} min minimum dwell left (EEPROM settings)`,
      mode,
    };
  }
  return { settings: want, state: { settings: want, changedAtMs: nowMs }, held: null, mode };
}
