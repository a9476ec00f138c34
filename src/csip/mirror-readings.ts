import { createHash } from 'node:crypto';
import { SEP_NS } from './resources.js';

/**
 * Telemetry as IEEE 2030.5 mirror metering (CSIP-AUS): one MirrorUsagePoint for the site's connection
 * point (roleFlags 0x03: mirror, premises aggregation point) and one per DER (0x49: mirror, DER,
 * submeter), each with a MirrorMeterReading per quantity. ReadingType: instantaneous (accumulation 12),
 * electricity (commodity 1), power (kind 37) or energy (kind 12), uom 38 W, 63 var, 29 V, 72 Wh.
 */

export interface MeasuredPoint {
  readonly activePowerW: number;
  readonly reactivePowerVar?: number;
  readonly voltageV?: number;
  /** Energy stored (a battery), Wh. */
  readonly storedEnergyWh?: number;
}

export interface TelemetryReport {
  readonly site: MeasuredPoint;
  readonly ders: readonly MeasuredPoint[];
}

export const ROLE_SITE = 0x03;
export const ROLE_DER = 0x49;
export const UOM = { W: 38, VAr: 63, V: 29, Wh: 72 } as const;

interface Quantity {
  readonly key: keyof MeasuredPoint;
  readonly uom: number;
  readonly kind: number;
  readonly name: string;
}

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

function meterReading(mupMRID: string, q: Quantity, v: number, nowS: number, withType: boolean): string {
  const s = scaled(v);
  const type = withType
    ? `<ReadingType><accumulationBehaviour>12</accumulationBehaviour><commodity>1</commodity><dataQualifier>0</dataQualifier><flowDirection>1</flowDirection><kind>${q.kind}</kind><phase>0</phase><powerOfTenMultiplier>${s.pow10}</powerOfTenMultiplier><uom>${q.uom}</uom></ReadingType>`
    : '';
  return (
    `<MirrorMeterReading><mRID>${mirrorMRID(mupMRID, q.key)}</mRID><description>${q.name}</description>` +
    `<Reading><timePeriod><duration>0</duration><start>${Math.floor(nowS)}</start></timePeriod><value>${s.value}</value></Reading>${type}</MirrorMeterReading>`
  );
}

const present = (p: MeasuredPoint): Quantity[] => QUANTITIES.filter((q) => p[q.key] !== undefined);

/** The MirrorUsagePoint to create (POST to the list), with its readings and their types. */
export function mirrorUsagePointXml(mrid: string, role: number, lfdi: string, description: string, p: MeasuredPoint, nowS: number): string {
  return (
    `<MirrorUsagePoint xmlns="${SEP_NS}"><mRID>${mrid}</mRID><description>${description}</description>` +
    `<roleFlags>${role.toString(16).toUpperCase().padStart(2, '0')}</roleFlags><serviceCategoryKind>0</serviceCategoryKind><status>1</status>` +
    `<deviceLFDI>${lfdi}</deviceLFDI>${present(p)
      .map((q) => meterReading(mrid, q, p[q.key] ?? 0, nowS, true))
      .join('')}</MirrorUsagePoint>`
  );
}

/** The readings to post to a created MirrorUsagePoint (its href), each with its type. */
export function meterReadingListXml(mrid: string, p: MeasuredPoint, nowS: number): string {
  const items = present(p).map((q) => meterReading(mrid, q, p[q.key] ?? 0, nowS, true));
  return `<MirrorMeterReadingList xmlns="${SEP_NS}" all="${items.length}" results="${items.length}">${items.join('')}</MirrorMeterReadingList>`;
}
