import type { Priority } from '../modbus/bus.js';
import { decodeModel, encodePoint, pointOf, unscale, type DecodedModel } from './codec.js';
import { standardModels, type ModelDef } from './model-schema.js';

/**
 * A SunSpec device on a Modbus line (usually Modbus TCP): find the SunS marker, walk the model chain,
 * read models with their scale factors, and write active-power limits through model 123 or 704 with
 * read-back. It talks through the project's ModbusBus (one transaction at a time) or anything with the
 * same two methods.
 */
export interface RegisterLine {
  readRegisters(unit: number, functionCode: 3 | 4, start: number, count: number, opts?: { priority?: Priority; timeoutMs?: number }): Promise<number[]>;
  writeRegisters(unit: number, start: number, values: readonly number[], opts?: { priority?: Priority; timeoutMs?: number }): Promise<void>;
}

/** 'SunS' as two registers. */
export const SUNS_MARKER = [0x5375, 0x6e53] as const;
export const END_MODEL_ID = 0xffff;
/** pysunspec2's order. Each is also tried one register later, for devices that number from 1. */
export const BASE_ADDRESSES = [40000, 0, 50000] as const;
const MAX_READ = 125;
const MAX_MODELS = 64;

export interface ModelHeader {
  readonly id: number;
  /** L: registers after ID and L. */
  readonly length: number;
  /** PDU address of the ID register. */
  readonly address: number;
  /** False when no definition is known for this ID (it is listed, never decoded). */
  readonly known: boolean;
}

export interface ScanResult {
  /** PDU address of the 'SunS' marker. */
  readonly base: number;
  readonly models: readonly ModelHeader[];
}

export class SunSpecError extends Error {}

export interface SunSpecClientOptions {
  readonly models?: ReadonlyMap<number, ModelDef>;
  readonly priority?: Priority;
  readonly timeoutMs?: number;
}

export class SunSpecClient {
  private readonly defs: ReadonlyMap<number, ModelDef>;
  private scanned: ScanResult | undefined;

  constructor(
    private readonly line: RegisterLine,
    readonly unit: number,
    private readonly options: SunSpecClientOptions = {},
  ) {
    this.defs = options.models ?? standardModels();
  }

  get scanResult(): ScanResult | undefined {
    return this.scanned;
  }

  private read(start: number, count: number): Promise<number[]> {
    const o = this.options;
    return this.line.readRegisters(this.unit, 3, start, count, {
      ...(o.priority ? { priority: o.priority } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
  }

  private async readBlock(start: number, count: number): Promise<number[]> {
    const out: number[] = [];
    for (let at = 0; at < count; at += MAX_READ) out.push(...(await this.read(start + at, Math.min(MAX_READ, count - at))));
    return out;
  }

  /** Finds the marker (40000, 0, 50000, each also +1) and walks ID/L until 0xFFFF. */
  async scan(): Promise<ScanResult> {
    const tried: string[] = [];
    for (const b of BASE_ADDRESSES) {
      for (const base of [b, b + 1]) {
        let words: number[];
        try {
          words = await this.read(base, 2);
        } catch (e) {
          tried.push(`${base}: ${(e as Error).message}`);
          continue;
        }
        if (words[0] !== SUNS_MARKER[0] || words[1] !== SUNS_MARKER[1]) {
          tried.push(`${base}: no marker`);
          continue;
        }
        this.scanned = { base, models: await this.walk(base + 2) };
        return this.scanned;
      }
    }
    throw new SunSpecError(`no SunS marker on unit ${this.unit} (${tried.join('; ')})`);
  }

  private async walk(first: number): Promise<ModelHeader[]> {
    const models: ModelHeader[] = [];
    let at = first;
    while (models.length < MAX_MODELS && at < 0xffff) {
      const [id] = await this.read(at, 1); // the end model's L may be missing, so ID alone first
      if (id === undefined || id === END_MODEL_ID) return models;
      const [length] = await this.read(at + 1, 1);
      if (length === undefined) throw new SunSpecError(`model ${id} at ${at} has no length`);
      models.push({ id, length, address: at, known: this.defs.has(id) });
      at += length + 2;
    }
    throw new SunSpecError(`the model chain does not end at 0xFFFF within ${MAX_MODELS} models`);
  }

  private async ensureScanned(): Promise<ScanResult> {
    return this.scanned ?? (await this.scan());
  }

  def(id: number): ModelDef {
    const d = this.defs.get(id);
    if (!d) throw new SunSpecError(`no definition for SunSpec model ${id}`);
    return d;
  }

  async header(id: number): Promise<ModelHeader | undefined> {
    return (await this.ensureScanned()).models.find((m) => m.id === id);
  }

  /** Reads and decodes the first model with this ID. */
  async readModel(id: number): Promise<DecodedModel> {
    const h = await this.header(id);
    if (!h) throw new SunSpecError(`unit ${this.unit} has no SunSpec model ${id}`);
    return decodeModel(this.def(id), await this.readBlock(h.address, h.length + 2));
  }

  /** Every model with a known definition, decoded, by ID (the first of each ID). */
  async readAll(): Promise<ReadonlyMap<number, DecodedModel>> {
    const out = new Map<number, DecodedModel>();
    for (const h of (await this.ensureScanned()).models) if (h.known && !out.has(h.id)) out.set(h.id, await this.readModel(h.id));
    return out;
  }

  /** Writes top-level points of a model as one FC16 block (they must be contiguous), values raw. */
  async writePoints(id: number, points: readonly (readonly [name: string, raw: number])[]): Promise<void> {
    const h = await this.header(id);
    if (!h) throw new SunSpecError(`unit ${this.unit} has no SunSpec model ${id}`);
    const def = this.def(id);
    const located = points.map(([name, raw]) => ({ ...pointOf(def, name), raw })).sort((a, b) => a.offset - b.offset);
    const words: number[] = [];
    let next = located[0]?.offset ?? 0;
    for (const l of located) {
      if (l.point.access !== 'RW') throw new SunSpecError(`model ${id} point ${l.point.name} is read-only`);
      if (l.offset !== next) throw new SunSpecError(`model ${id}: points to write are not contiguous at ${l.point.name}`);
      words.push(...encodePoint(l.point.type, l.point.size, l.raw));
      next = l.offset + l.point.size;
    }
    const first = located[0];
    if (first) await this.line.writeRegisters(this.unit, h.address + first.offset, words);
  }

  /**
   * Limits active power to `pct` % of WMax, through model 704 (DER AC controls) when the device has it,
   * else model 123 (immediate controls), with the revert timeout (0 = none), then reads back.
   */
  async setActivePowerLimitPct(pct: number, o: { revertS?: number; windowS?: number; via?: 123 | 704 } = {}): Promise<LimitReadback> {
    if (!(pct >= 0 && pct <= 100)) throw new SunSpecError(`a power limit is 0-100 %, not ${pct}`);
    const via = o.via ?? ((await this.header(704)) ? 704 : 123);
    const revertS = Math.max(0, Math.round(o.revertS ?? 0));
    const model = await this.readModel(via);
    const sf = model.raw['WMaxLimPct_SF'];
    const rawPct = unscale(pct, typeof sf === 'number' ? sf : 0);
    if (via === 123) {
      const ramp = model.raw['WMaxLimPct_RmpTms'];
      await this.writePoints(123, [
        ['WMaxLimPct', rawPct],
        ['WMaxLimPct_WinTms', Math.max(0, Math.round(o.windowS ?? 0))],
        ['WMaxLimPct_RvrtTms', revertS],
        ['WMaxLimPct_RmpTms', typeof ramp === 'number' ? ramp : 0],
        ['WMaxLim_Ena', 1],
      ]);
    } else {
      await this.writePoints(704, [
        ['WMaxLimPctEna', 1],
        ['WMaxLimPct', rawPct],
        ['WMaxLimPctRvrt', unscale(100, typeof sf === 'number' ? sf : 0)],
        ['WMaxLimPctEnaRvrt', 0],
        ['WMaxLimPctRvrtTms', revertS],
      ]);
    }
    const back = await this.readLimit(via);
    const mismatch: string[] = [];
    if (back.pct === null || Math.abs(back.pct - pct) > 10 ** (typeof sf === 'number' ? sf : 0) / 2 + 1e-9)
      mismatch.push(`limit reads back ${String(back.pct)} %, wrote ${pct} %`);
    if (!back.enabled) mismatch.push('the limit reads back disabled');
    if (back.revertS !== null && back.revertS !== revertS) mismatch.push(`revert time reads back ${back.revertS} s, wrote ${revertS} s`);
    return { ...back, requestedPct: pct, ok: mismatch.length === 0, mismatch };
  }

  /** Disables the power limit (the inverter goes back to WMax). */
  async releaseActivePowerLimit(via?: 123 | 704): Promise<LimitState> {
    const m = via ?? ((await this.header(704)) ? 704 : 123);
    await this.writePoints(m, [[m === 123 ? 'WMaxLim_Ena' : 'WMaxLimPctEna', 0]]);
    return this.readLimit(m);
  }

  /** The limit as the device holds it now. */
  async readLimit(via: 123 | 704): Promise<LimitState> {
    const m = await this.readModel(via);
    const pct = m.values['WMaxLimPct'];
    const ena = via === 123 ? m.values['WMaxLim_Ena'] : m.values['WMaxLimPctEna'];
    const rvrt = via === 123 ? m.values['WMaxLimPct_RvrtTms'] : m.values['WMaxLimPctRvrtTms'];
    return { via, pct: typeof pct === 'number' ? pct : null, enabled: ena === 1, revertS: typeof rvrt === 'number' ? rvrt : null };
  }
}

export interface LimitState {
  readonly via: 123 | 704;
  readonly pct: number | null;
  readonly enabled: boolean;
  readonly revertS: number | null;
}

export interface LimitReadback extends LimitState {
  readonly requestedPct: number;
  readonly ok: boolean;
  /** What read back differently from what was written (empty when ok). */
  readonly mismatch: readonly string[];
}
