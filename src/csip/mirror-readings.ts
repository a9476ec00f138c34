import { createHash } from 'node:crypto';
import { SEP_NS } from './resources.js';

/**
 * Telemetry as IEEE 2030.5 mirror metering (CSIP-AUS): one MirrorUsagePoint for the site's connection
 * point (roleFlags 0x03: mirror, premises aggregation point) and one per DER (0x49: mirror, DER,
 * submeter), each with a MirrorMeterReading per quantity. ReadingType: instantaneous (accumulation 12),
 * electricity (commodity 1), power (kind 37) or energy (kind 12), uom 38 W, 63 var, 29 V, 72 Wh; the
 * phase (PhaseCode) 0 for a total, else the phase's code, so per-phase readings sit beside the totals.
 */

export const PHASE_NAMES = ['L1', 'L2', 'L3'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** What is measured on one phase (line to neutral). */
export interface PhaseValues {
  readonly activePowerW?: number;
  readonly reactivePowerVar?: number;
  readonly voltageV?: number;
}

/** A measurement point; a quantity not measured (or not fresh) is absent and is not posted. */
export interface MeasuredPoint {
  readonly activePowerW?: number;
  readonly reactivePowerVar?: number;
  readonly voltageV?: number;
  /** Energy stored (a battery), Wh. */
  readonly storedEnergyWh?: number;
  /** Per phase where measured, posted with the phase's PhaseCode in the ReadingType. */
  readonly phases?: Readonly<Partial<Record<PhaseName, PhaseValues>>>;
}

export interface TelemetryReport {
  readonly site: MeasuredPoint;
  readonly ders: readonly MeasuredPoint[];
}

export const ROLE_SITE = 0x03;
export const ROLE_DER = 0x49;
export const UOM = { W: 38, VAr: 63, V: 29, Wh: 72 } as const;

interface Quantity {
  readonly key: 'activePowerW' | 'reactivePowerVar' | 'voltageV' | 'storedEnergyWh';
  readonly uom: number;
  readonly kind: number;
  readonly name: string;
}

/**
 * IEEE 2030.5 PhaseCode: power on phase A, B, C is 128, 64, 32; a voltage line to neutral is AN 129,
 * BN 65, CN 33; 0 is not applicable (the total).
 */
export const PHASE_CODE: Readonly<Record<PhaseName, { readonly power: number; readonly voltage: number }>> = {
  L1: { power: 128, voltage: 129 },
  L2: { power: 64, voltage: 65 },
  L3: { power: 32, voltage: 33 },
};

const QUANTITIES: readonly Quantity[] = [
  { key: 'activePowerW', uom: UOM.W, kind: 37, name: 'active power' },
  { key: 'reactivePowerVar', uom: UOM.VAr, kind: 37, name: 'reactive power' },
  { key: 'voltageV', uom: UOM.V, kind: 0, name: 'voltage' },
  { key: 'storedEnergyWh', uom: UOM.Wh, kind: 12, name: 'stored energy' },
];

/** A stable 128-bit mRID for this device and purpose. */
export function mirrorMRID(lfdi: string, what: string): string {
  return createHash('sha256').update(`${lfdi}/${what}`).digest('hex').slice(0, 32).toUpperCase();
}

/** The value in the Int48 range with the smallest power of ten (down to 10^-3) that keeps its precision. */
function scaled(v: number): { value: number; pow10: number } {
  for (const pow10 of [-3, -2, -1, 0]) {
    const value = Math.round(v / 10 ** pow10);
    if (Math.abs(value) < 2 ** 47 && Math.abs(value * 10 ** pow10 - v) < 1e-9 * Math.max(1, Math.abs(v))) return { value, pow10 };
  }
  return { value: Math.round(v), pow10: 0 };
}

interface Entry {
  readonly q: Quantity;
  readonly phase: number;
  readonly value: number;
}

/** Every quantity present in the point: totals (phase 0), then each measured phase. */
export function entriesOf(p: MeasuredPoint): Entry[] {
  const out: Entry[] = [];
  for (const q of QUANTITIES) {
    const v = p[q.key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ q, phase: 0, value: v });
  }
  for (const name of PHASE_NAMES) {
    const ph = p.phases?.[name];
    if (!ph) continue;
    for (const q of QUANTITIES) {
      if (q.key === 'storedEnergyWh') continue;
      const v = ph[q.key];
      if (typeof v === 'number' && Number.isFinite(v))
        out.push({ q, phase: q.key === 'voltageV' ? PHASE_CODE[name].voltage : PHASE_CODE[name].power, value: v });
    }
  }
  return out;
}

function meterReading(mupMRID: string, e: Entry, nowS: number, withType: boolean): string {
  const { q, phase } = e;
  const s = scaled(e.value);
  const type = withType
    ? `<ReadingType><accumulationBehaviour>12</accumulationBehaviour><commodity>1</commodity><dataQualifier>0</dataQualifier><flowDirection>1</flowDirection><kind>${q.kind}</kind><phase>${phase}</phase><powerOfTenMultiplier>${s.pow10}</powerOfTenMultiplier><uom>${q.uom}</uom></ReadingType>`
    : '';
  // The totals keep the mRIDs they had before phases were reported.
  const mrid = mirrorMRID(mupMRID, phase === 0 ? q.key : `${q.key}/${phase}`);
  const name = phase === 0 ? q.name : `${q.name} (phase ${phase})`;
  return (
    `<MirrorMeterReading><mRID>${mrid}</mRID><description>${name}</description>` +
    `<Reading><timePeriod><duration>0</duration><start>${Math.floor(nowS)}</start></timePeriod><value>${s.value}</value></Reading>${type}</MirrorMeterReading>`
  );
}

/** Whether the point holds anything to post. */
export const hasReadings = (p: MeasuredPoint): boolean => entriesOf(p).length > 0;

/** The MirrorUsagePoint to create (POST to the list), with its readings and their types. */
export function mirrorUsagePointXml(mrid: string, role: number, lfdi: string, description: string, p: MeasuredPoint, nowS: number): string {
  return (
    `<MirrorUsagePoint xmlns="${SEP_NS}"><mRID>${mrid}</mRID><description>${description}</description>` +
    `<roleFlags>${role.toString(16).toUpperCase().padStart(2, '0')}</roleFlags><serviceCategoryKind>0</serviceCategoryKind><status>1</status>` +
    `<deviceLFDI>${lfdi}</deviceLFDI>${entriesOf(p)
      .map((e) => meterReading(mrid, e, nowS, true))
      .join('')}</MirrorUsagePoint>`
  );
}

/** The readings taken at `atS` (server seconds) to post to a created MirrorUsagePoint (its href), each with its type. */
export function meterReadingListXml(mrid: string, p: MeasuredPoint, atS: number): string {
  const items = entriesOf(p).map((e) => meterReading(mrid, e, atS, true));
  return `<MirrorMeterReadingList xmlns="${SEP_NS}" all="${items.length}" results="${items.length}">${items.join('')}</MirrorMeterReadingList>`;
}
