import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from '#zod';
import { fromRoot } from '../util/paths.js';

/**
 * The SunSpec Alliance's model definitions (`sunspec-models/model_<id>.json`, Apache-2.0) validated and
 * laid out. A model is a group of points, optionally followed by nested groups; a group with a `count`
 * naming a point repeats that many times (e.g. model 705's `Crv[NCrv]`). Offsets count from the
 * model's ID register, so `ID` is at 0, `L` at 1 and the first data point at 2.
 */

export const POINT_TYPES = [
  'int16',
  'uint16',
  'count',
  'acc16',
  'enum16',
  'bitfield16',
  'sunssf',
  'pad',
  'int32',
  'uint32',
  'acc32',
  'enum32',
  'bitfield32',
  'float32',
  'ipaddr',
  'int64',
  'uint64',
  'acc64',
  'float64',
  'ipv6addr',
  'eui48',
  'string',
] as const;
export type PointType = (typeof POINT_TYPES)[number];

const symbolSchema = z.object({ name: z.string(), value: z.number().int() });

const pointSchema = z.object({
  name: z.string().min(1),
  type: z.enum(POINT_TYPES),
  size: z.number().int().min(1).max(64),
  sf: z.union([z.string(), z.number().int()]).optional(),
  units: z.string().optional(),
  access: z.enum(['R', 'RW']).optional(),
  mandatory: z.enum(['M', 'O']).optional(),
  static: z.enum(['S', 'D']).optional(),
  symbols: z.array(symbolSchema).optional(),
  value: z.union([z.number(), z.string()]).optional(),
  label: z.string().optional(),
});
export type PointDef = z.output<typeof pointSchema>;

export interface GroupDef {
  readonly name: string;
  readonly type: string;
  readonly count?: number | string | undefined;
  readonly points: readonly PointDef[];
  readonly groups?: readonly GroupDef[] | undefined;
}

const groupSchema: z.ZodType<GroupDef> = z.lazy(() =>
  z.object({
    name: z.string().min(1),
    type: z.string(),
    count: z.union([z.number().int().min(0), z.string()]).optional(),
    points: z.array(pointSchema),
    groups: z.array(groupSchema).optional(),
  }),
);

export const modelFileSchema = z.object({ id: z.number().int().min(1).max(65534), group: groupSchema });
export type ModelFile = z.output<typeof modelFileSchema>;

/** A model ready to decode: its definition plus the length of its fixed part. */
export interface ModelDef {
  readonly id: number;
  readonly name: string;
  readonly group: GroupDef;
  /** L of the model without repeating groups (registers after ID and L). */
  readonly fixedLength: number;
}

export const groupSize = (g: GroupDef): number => g.points.reduce((n, p) => n + p.size, 0);

/** Registers of a group including its nested groups, with repeating groups counted `repeats` times. */
export function fixedSize(g: GroupDef, repeats = 0): number {
  const nested = (g.groups ?? []).reduce((n, c) => n + (typeof c.count === 'string' ? repeats : (c.count ?? 1)) * fixedSize(c, repeats), 0);
  return groupSize(g) + nested;
}

export function toModelDef(file: ModelFile): ModelDef {
  const pts = file.group.points;
  if (pts[0]?.name !== 'ID' || pts[1]?.name !== 'L') throw new Error(`SunSpec model ${file.id}: the first points must be ID and L`);
  return { id: file.id, name: file.group.name, group: file.group, fixedLength: fixedSize(file.group) - 2 };
}

/** The folder of the vendored model JSON (`sunspec-models/` at the package root). */
export const MODELS_DIR = fromRoot('sunspec-models');

/** The model definitions of a folder, by model ID. Throws on a file that does not match the schema. */
export function loadModels(dir: string = MODELS_DIR): ReadonlyMap<number, ModelDef> {
  const out = new Map<number, ModelDef>();
  for (const name of readdirSync(dir)
    .filter((n) => /^model_\d+\.json$/.test(n))
    .sort()) {
    const file = path.join(dir, name);
    const parsed = modelFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    out.set(parsed.data.id, toModelDef(parsed.data));
  }
  return out;
}

let cached: ReadonlyMap<number, ModelDef> | undefined;

/** The vendored models, loaded once. */
export function standardModels(): ReadonlyMap<number, ModelDef> {
  cached ??= loadModels();
  return cached;
}
