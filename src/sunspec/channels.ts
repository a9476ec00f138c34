import type { DecodedModel, RawValue } from './codec.js';

/**
 * SunSpec models to the project's standard channels (src/channels/catalogue.ts) with its sign
 * conventions (docs/sign-conventions.md):
 * - an inverter's ActivePower is production (positive), as SunSpec 10x/11x `W` and 701 `W` ("positive for
 *   generation") already are; ActivePowerLimit is the production cap in W (WMax × WMaxLimPct while the
 *   limit is enabled, else WMax);
 * - a meter's ActivePower is import-positive. The 20x model JSON does not fix the sign of `W` ("Total
 *   Real Power"), and devices differ (SolarEdge's export+import meter reads export positive, by its
 *   users' reports), so import-positive is assumed and `invertPower` turns a device's export-positive
 *   power (total and per phase) around. TotWhImp and TotWhExp are named by direction and never swapped.
 * Energies are kWh. A value that is not implemented is left out, never written as 0.
 */
export type Channels = Record<string, number>;

const num = (v: RawValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function put(out: Channels, name: string, v: RawValue | undefined, f: (x: number) => number = (x) => x): void {
  const n = num(v);
  if (n !== undefined) out[name] = f(n);
}

const kWh = (wh: number): number => wh / 1000;
const PHASES = [
  ['A', 'L1'],
  ['B', 'L2'],
  ['C', 'L3'],
] as const;

/** Inverter channels from 101-103/111-113, 701, 120/121/702 (WMax) and 123/704 (limit). */
export function inverterChannels(models: ReadonlyMap<number, DecodedModel>): Channels {
  const out: Channels = {};
  const inv = [101, 102, 103, 111, 112, 113].map((id) => models.get(id)).find((m) => m);
  if (inv) {
    const v = inv.values;
    put(out, 'ActivePower', v['W']);
    put(out, 'Frequency', v['Hz']);
    put(out, 'ApparentPower', v['VA']);
    for (const [p, l] of PHASES) {
      put(out, `Voltage_${l}`, v[`PhVph${p}`]);
      put(out, `Current_${l}`, v[`Aph${p}`]);
    }
    put(out, 'EnergyExport', v['WH'], kWh);
  }
  const der = models.get(701);
  if (der) {
    const v = der.values;
    put(out, 'ActivePower', v['W']);
    put(out, 'Frequency', v['Hz']);
    put(out, 'ApparentPower', v['VA']);
    for (const l of ['L1', 'L2', 'L3']) {
      put(out, `ActivePower_${l}`, v[`W${l}`]);
      put(out, `Voltage_${l}`, v[`V${l}`]);
      put(out, `Current_${l}`, v[`A${l}`]);
    }
    put(out, 'EnergyExport', v['TotWhInj'], kWh);
    put(out, 'EnergyImport', v['TotWhAbs'], kWh);
  }
  const wMax = num(models.get(702)?.values['WMax']) ?? num(models.get(121)?.values['WMax']) ?? num(models.get(120)?.values['WRtg']);
  const ctl704 = models.get(704);
  const ctl123 = models.get(123);
  if (wMax !== undefined) {
    if (ctl704) out['ActivePowerLimit'] = ctl704.values['WMaxLimPctEna'] === 1 ? (wMax * (num(ctl704.values['WMaxLimPct']) ?? 100)) / 100 : wMax;
    else if (ctl123) out['ActivePowerLimit'] = ctl123.values['WMaxLim_Ena'] === 1 ? (wMax * (num(ctl123.values['WMaxLimPct']) ?? 100)) / 100 : wMax;
  }
  const bat = models.get(802);
  if (bat) {
    put(out, 'Soc', bat.values['SoC']);
    put(out, 'Capacity', bat.values['WHRtg']);
    put(out, 'BatteryVoltage', bat.values['V']);
  }
  return out;
}

/** Meter channels from 201-204. */
export function meterChannels(m: DecodedModel, o: { invertPower?: boolean } = {}): Channels {
  const out: Channels = {};
  const sign = o.invertPower ? -1 : 1;
  const v = m.values;
  put(out, 'ActivePower', v['W'], (x) => sign * x);
  put(out, 'ReactivePower', v['VAR'], (x) => sign * x);
  put(out, 'ApparentPower', v['VA']);
  put(out, 'PowerFactor', v['PF']);
  put(out, 'Frequency', v['Hz']);
  for (const [p, l] of PHASES) {
    put(out, `ActivePower_${l}`, v[`Wph${p}`], (x) => sign * x);
    put(out, `Voltage_${l}`, v[`PhVph${p}`]);
    put(out, `Current_${l}`, v[`Aph${p}`]);
    put(out, `PowerFactor_${l}`, v[`PFph${p}`]);
  }
  put(out, 'Voltage_L12', v['PhVphAB']);
  put(out, 'Voltage_L23', v['PhVphBC']);
  put(out, 'Voltage_L31', v['PhVphCA']);
  put(out, 'EnergyImport', v['TotWhImp'], kWh);
  put(out, 'EnergyExport', v['TotWhExp'], kWh);
  return out;
}
