import { z } from 'zod';
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
