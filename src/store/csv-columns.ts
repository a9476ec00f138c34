import type { IntervalRow } from './interval-calc.js';

/** Number formatting for CSV: short, no float noise (0.49, not 0.49000000953674316), never exponents. */
const sig7 = (x: number): string => plain(Number(x.toPrecision(7)));
/** Counters: meters count in 0.01 kWh (some 0.001); more decimals would only show float32 noise. */
const dec3 = (x: number): string => plain(Number(x.toFixed(3)));
const dec6 = (x: number): string => plain(Number(x.toFixed(6)));
const int = (x: number): string => String(Math.round(x));

function plain(x: number): string {
  return Math.abs(x) < 1e-6 ? '0' : String(x);
}

export interface ReadingColumn {
  readonly header: string;
  readonly channel: string;
  /** Stored unit / divisor = CSV unit (W -> kW). Division by 1000 keeps 490 W -> 0.49 exact. */
  readonly divisor: number;
  readonly format: (x: number) => string;
}

/** The seed logger's columns, in its order. E_total_kWh is the imported-energy counter, as it wrote. */
export const READING_COLUMNS: readonly ReadingColumn[] = [
  { header: 'V_L1_V', channel: 'Voltage_L1', divisor: 1, format: sig7 },
  { header: 'V_L2_V', channel: 'Voltage_L2', divisor: 1, format: sig7 },
  { header: 'V_L3_V', channel: 'Voltage_L3', divisor: 1, format: sig7 },
  { header: 'I_L1_A', channel: 'Current_L1', divisor: 1, format: sig7 },
  { header: 'I_L2_A', channel: 'Current_L2', divisor: 1, format: sig7 },
  { header: 'I_L3_A', channel: 'Current_L3', divisor: 1, format: sig7 },
  { header: 'P_total_kW', channel: 'ActivePower', divisor: 1000, format: sig7 },
  { header: 'P_L1_kW', channel: 'ActivePower_L1', divisor: 1000, format: sig7 },
  { header: 'P_L2_kW', channel: 'ActivePower_L2', divisor: 1000, format: sig7 },
  { header: 'P_L3_kW', channel: 'ActivePower_L3', divisor: 1000, format: sig7 },
  { header: 'Q_total_kvar', channel: 'ReactivePower', divisor: 1000, format: sig7 },
  { header: 'PF_total', channel: 'PowerFactor', divisor: 1, format: sig7 },
  { header: 'F_Hz', channel: 'Frequency', divisor: 1, format: sig7 },
  { header: 'E_total_kWh', channel: 'EnergyImport', divisor: 1, format: dec3 },
  { header: 'E_export_kWh', channel: 'EnergyExport', divisor: 1, format: dec3 },
];

export interface IntervalColumn {
  readonly header: string;
  /** A quarantined interval's energies are null, so its energy cells stay empty (never summed). */
  readonly field: { [K in keyof IntervalRow]-?: IntervalRow[K] extends number | null ? K : never }[Exclude<keyof IntervalRow, 'startMs'>];
  readonly divisor: number;
  readonly format: (x: number) => string;
}

export const INTERVAL_COLUMNS: readonly IntervalColumn[] = [
  { header: 'E_import_kWh', field: 'energyImportKWh', divisor: 1, format: dec6 },
  { header: 'E_export_kWh', field: 'energyExportKWh', divisor: 1, format: dec6 },
  { header: 'P_avg_kW', field: 'powerAvgW', divisor: 1000, format: sig7 },
  { header: 'P_min_kW', field: 'powerMinW', divisor: 1000, format: sig7 },
  { header: 'P_max_kW', field: 'powerMaxW', divisor: 1000, format: sig7 },
  { header: 'V_min_V', field: 'voltageMinV', divisor: 1, format: sig7 },
  { header: 'V_max_V', field: 'voltageMaxV', divisor: 1, format: sig7 },
  { header: 'samples', field: 'samples', divisor: 1, format: int },
];

/** An empty cell for a value the meter does not have. */
export function cell(x: number | null | undefined, divisor: number, format: (x: number) => string): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '' : format(x / divisor);
}
