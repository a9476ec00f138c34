import { z } from '#zod';
import { parseXmlTree, SEP_NS } from '../resources.js';

/**
 * What the utility server makes of the client's PUTs and POSTs: DERSettings, DERCapability and DERStatus
 * flattened to numbers by element name (powers as value × 10^multiplier, power factors as displacement ×
 * 10^multiplier, bit fields from hex, status types from their value), and DERControlResponses.
 */

const int = z
  .string()
  .regex(/^[+-]?\d+$/, 'expected an integer')
  .transform((s) => Number(s));
const hexNum = z
  .string()
  .regex(/^[0-9a-fA-F]+$/, 'expected hex')
  .transform((s) => parseInt(s, 16));
const power = z.object({ multiplier: int, value: int }).transform((p) => p.value * 10 ** p.multiplier);
const pf = z.object({ displacement: int, multiplier: int }).transform((p) => p.displacement * 10 ** p.multiplier);
const statusValue = z.object({ dateTime: int.optional(), value: z.string() });

const HEX_FIELDS = new Set(['modesEnabled', 'modesSupported', 'doeModesEnabled', 'doeModesSupported', 'vppModesEnabled', 'vppModesSupported', 'alarmStatus']);
const HEX_STATUS = new Set(['genConnectStatus', 'storConnectStatus']);

export type Flat = Readonly<Record<string, number>>;

/** Flattens a DERSettings, DERCapability or DERStatus document; throws naming the element that is wrong. */
export function flattenReport(root: 'DERSettings' | 'DERCapability' | 'DERStatus', xml: string): Flat {
  const doc = parseXmlTree(xml);
  if (doc.root !== root || doc.ns !== SEP_NS) throw new Error(`expected a ${root} in ${SEP_NS}, found ${doc.root} in ${doc.ns ?? 'no namespace'}`);
  const body = typeof doc.body === 'object' && doc.body !== null ? (doc.body as Record<string, unknown>) : {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'href') continue;
    const attempt = (): number | undefined => {
      if (typeof v === 'string') return HEX_FIELDS.has(k) ? hexNum.parse(v) : int.parse(v);
      const s = statusValue.safeParse(v);
      if (s.success) return HEX_STATUS.has(k) ? hexNum.parse(s.data.value) : int.parse(s.data.value);
      const p = power.safeParse(v);
      if (p.success) return p.data;
      const f = pf.safeParse(v);
      if (f.success) return f.data;
      return undefined;
    };
    try {
      const n = attempt();
      if (n !== undefined) out[k] = n;
    } catch (e) {
      throw new Error(`${root}/${k}: ${e instanceof z.ZodError ? (e.issues[0]?.message ?? 'invalid') : String(e)}`, { cause: e });
    }
  }
  return out;
}

export const ResponseSchema = z.object({
  createdDateTime: int.optional(),
  endDeviceLFDI: z.string(),
  status: int,
  subject: z.string(),
});

export type ReceivedResponse = z.output<typeof ResponseSchema> & { readonly atMs: number; readonly path: string };

export function parseResponse(xml: string): z.output<typeof ResponseSchema> {
  const doc = parseXmlTree(xml);
  if (doc.root !== 'DERControlResponse' && doc.root !== 'Response') throw new Error(`expected a DERControlResponse, found ${doc.root}`);
  return ResponseSchema.parse(doc.body);
}

const many = <T extends z.ZodType>(item: T) =>
  z.preprocess((v): unknown[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v]), z.array(item));

const MeterReadingSchema = z.object({
  mRID: z.string(),
  Reading: z.object({ value: int, timePeriod: z.object({ start: int }).optional() }).optional(),
  ReadingType: z.object({ uom: int, powerOfTenMultiplier: int.optional(), phase: int.optional() }).optional(),
});

const MirrorUsagePointSchema = z.object({
  mRID: z.string(),
  roleFlags: hexNum,
  deviceLFDI: z.string().optional(),
  MirrorMeterReading: many(MeterReadingSchema),
});

export interface MirrorReading {
  readonly mrid: string;
  /** uom of the ReadingType (38 W, 63 var, 29 V, 72 Wh). */
  readonly uom: number;
  readonly value: number;
  /** PhaseCode of the ReadingType (0 or absent: not applicable, a total). */
  readonly phase?: number;
  /** When the value was taken (the Reading's timePeriod start, s). */
  readonly start?: number;
}

const readingsOf = (items: readonly z.output<typeof MeterReadingSchema>[]): MirrorReading[] =>
  items.flatMap((m) =>
    m.Reading && m.ReadingType
      ? [
          {
            mrid: m.mRID,
            uom: m.ReadingType.uom,
            value: m.Reading.value * 10 ** (m.ReadingType.powerOfTenMultiplier ?? 0),
            ...(m.ReadingType.phase !== undefined ? { phase: m.ReadingType.phase } : {}),
            ...(m.Reading.timePeriod ? { start: m.Reading.timePeriod.start } : {}),
          },
        ]
      : [],
  );

/** A MirrorUsagePoint posted to the list: its identity, role and any readings (with their types) in it. */
export function parseMirrorUsagePoint(xml: string): { mrid: string; roleFlags: number; readings: MirrorReading[] } {
  const doc = parseXmlTree(xml);
  if (doc.root !== 'MirrorUsagePoint') throw new Error(`expected a MirrorUsagePoint, found ${doc.root}`);
  const m = MirrorUsagePointSchema.parse(doc.body);
  return { mrid: m.mRID.toUpperCase(), roleFlags: m.roleFlags, readings: readingsOf(m.MirrorMeterReading) };
}

/** Readings posted to a MirrorUsagePoint: a MirrorMeterReading or a MirrorMeterReadingList (each reading with its type). */
export function parseMeterReadings(xml: string): MirrorReading[] {
  const doc = parseXmlTree(xml);
  if (doc.root === 'MirrorMeterReading') return readingsOf([MeterReadingSchema.parse(doc.body)]);
  if (doc.root === 'MirrorMeterReadingList') return readingsOf(z.object({ MirrorMeterReading: many(MeterReadingSchema) }).parse(doc.body).MirrorMeterReading);
  throw new Error(`expected a MirrorMeterReading or MirrorMeterReadingList, found ${doc.root}`);
}
