import type { Clock } from '../util/clock.js';
import { decodeModel, encodeModel, pointOf, type EncodeInput, type RawValue } from '../sunspec/codec.js';
import { standardModels, type ModelDef } from '../sunspec/model-schema.js';
import { EXCEPTION, refuse, type ModbusRefusal, type RegisterDevice } from './device.js';
import { pvAt } from './load-profile.js';
import { RtuSlave } from './rtu-slave.js';
import { serveModbusTcp, type Listener } from './transports.js';

/**
 * A simulated SunSpec device: the register image is built from the vendored SunSpec model JSON
 * (`sunspec-models/`) by the same codec the client decodes with, starting with 'SunS' at `base`.
 * - `legacy`: common (1), inverter 103, nameplate 120, settings 121, status 122, immediate controls 123
 *   and a wye meter 203 at the site's connection point, in one chain.
 * - `der`: common (1), DER models 701-705 and a battery (802).
 * The inverter produces min(available PV, limit); the limit is WMax × WMaxLimPct while enabled (123
 * `WMaxLim_Ena`, 704 `WMaxLimPctEna`) and reverts when its revert time (`WMaxLimPct_RvrtTms`,
 * `WMaxLimPctRvrtTms`) has passed on the clock: 123 disables the limit, 704 takes `WMaxLimPctRvrt` and
 * `WMaxLimPctEnaRvrt`. Time windows and ramps are not simulated (the new limit applies at once).
 * Points the device does not fill hold their type's not-implemented value, as a real device's do.
 */
export type SunSpecSimKind = 'legacy' | 'der';

export interface SunSpecSimOptions {
  readonly kind: SunSpecSimKind;
  readonly clock: Clock;
  /** Modbus unit id (default 1). */
  readonly address?: number;
  /** PDU address of the marker (default 40000). */
  readonly base?: number;
  readonly ratingW?: number;
  /** Available PV in W at an instant; default the simulator's rooftop curve at `ratingW`. */
  readonly availableW?: (ms: number) => number;
  /** Site load per phase in W (the `legacy` meter sees load - PV), default 1200/1000/800 W. */
  readonly loadW?: (ms: number) => readonly [number, number, number];
  readonly seed?: number;
  readonly utcOffsetHours?: number;
}

interface Placed {
  readonly def: ModelDef;
  /** Offset of the model's ID register in the image. */
  readonly at: number;
  readonly length: number;
}

const CONTROL_MODELS = new Set([1, 121, 123, 702, 703, 704, 705, 802]);
const SUNSPEC_EPOCH_MS = Date.UTC(2000, 0, 1);
const V_PHASE = [230.4, 231.1, 229.6] as const;

export class SunSpecSimDevice implements RegisterDevice {
  readonly address: number;
  readonly base: number;
  readonly ratingW: number;
  private readonly image: number[] = [];
  private readonly placed = new Map<number, Placed>();
  private lastMs: number;
  private energyWh = 1_234_000;
  private meterImpWh = 2_500_000;
  private meterExpWh = 800_000;
  private revertAt: number | null = null;
  private outputW = 0;

  constructor(private readonly o: SunSpecSimOptions) {
    this.address = o.address ?? 1;
    this.base = o.base ?? 40000;
    this.ratingW = o.ratingW ?? 5000;
    this.lastMs = o.clock();
    const defs = standardModels();
    const ids = o.kind === 'legacy' ? [1, 103, 120, 121, 122, 123, 203] : [1, 701, 702, 703, 704, 705, 802];
    this.image.push(0x5375, 0x6e53);
    for (const id of ids) {
      const def = defs.get(id);
      if (!def) throw new Error(`no SunSpec model ${id} in sunspec-models/`);
      const words = encodeModel(def, this.initial(id));
      this.placed.set(id, { def, at: this.image.length, length: words.length - 2 });
      this.image.push(...words);
    }
    this.image.push(0xffff, 0);
    this.refresh();
  }

  /** Models in chain order: ID, L and PDU address. */
  get models(): readonly { id: number; length: number; address: number }[] {
    return [...this.placed.values()].map((p) => ({ id: p.def.id, length: p.length, address: this.base + p.at }));
  }

  /** Power produced now (W), after the limit. */
  get activePowerW(): number {
    this.refresh();
    return this.outputW;
  }

  /** The production cap now (W). */
  get limitW(): number {
    this.refresh();
    return this.currentLimitW();
  }

  readRegisters(_fc: 3 | 4, start: number, count: number): number[] | ModbusRefusal {
    const from = start - this.base;
    if (from < 0 || from + count > this.image.length) return refuse(EXCEPTION.illegalDataAddress);
    this.refresh();
    return this.image.slice(from, from + count);
  }

  writeRegisters(start: number, words: readonly number[]): ModbusRefusal | undefined {
    const from = start - this.base;
    const target = [...this.placed.values()].find((p) => from >= p.at + 2 && from + words.length <= p.at + 2 + p.length);
    if (!target || !CONTROL_MODELS.has(target.def.id) || !this.writable(target, from - target.at, words.length)) return refuse(EXCEPTION.illegalDataAddress);
    this.refresh();
    words.forEach((w, i) => (this.image[from + i] = w & 0xffff));
    if (target.def.id === 123 || target.def.id === 704) this.armRevert(target.def.id);
    this.refresh();
    return undefined;
  }

  /** Every register of the write must belong to a read-write point. */
  private writable(p: Placed, offset: number, count: number): boolean {
    let at = 0;
    const rw = new Set<number>();
    for (const pt of p.def.group.points) {
      if (pt.access === 'RW') for (let k = 0; k < pt.size; k++) rw.add(at + k);
      at += pt.size;
    }
    if (at < p.length + 2 && p.def.id === 705) for (let k = at; k < p.length + 2; k++) rw.add(k); // curve points
    for (let k = offset; k < offset + count; k++) if (!rw.has(k)) return false;
    return true;
  }

  private decoded(id: number): Readonly<Record<string, RawValue>> {
    const p = this.placed.get(id);
    if (!p) return {};
    return decodeModel(p.def, this.image.slice(p.at, p.at + p.length + 2)).values;
  }

  private setPoint(id: number, name: string, raw: number): void {
    const p = this.placed.get(id);
    if (!p) return;
    const { offset, point } = pointOf(p.def, name);
    const words = point.size === 2 ? [(raw >>> 16) & 0xffff, raw & 0xffff] : [raw & 0xffff];
    words.forEach((w, i) => (this.image[p.at + offset + i] = w));
  }

  private ctlId(): 123 | 704 {
    return this.placed.has(704) ? 704 : 123;
  }

  private armRevert(id: 123 | 704): void {
    const v = this.decoded(id);
    const enabled = (id === 123 ? v['WMaxLim_Ena'] : v['WMaxLimPctEna']) === 1;
    const rvrt = id === 123 ? v['WMaxLimPct_RvrtTms'] : v['WMaxLimPctRvrtTms'];
    this.revertAt = enabled && typeof rvrt === 'number' && rvrt > 0 ? this.o.clock() + rvrt * 1000 : null;
  }

  private wMax(): number {
    const v = this.placed.has(702) ? this.decoded(702)['WMax'] : this.decoded(121)['WMax'];
    return typeof v === 'number' ? v : this.ratingW;
  }

  private currentLimitW(): number {
    const id = this.ctlId();
    const v = this.decoded(id);
    const enabled = (id === 123 ? v['WMaxLim_Ena'] : v['WMaxLimPctEna']) === 1;
    const pct = v['WMaxLimPct'];
    return enabled && typeof pct === 'number' ? (this.wMax() * Math.min(100, Math.max(0, pct))) / 100 : this.wMax();
  }

  /** Reverts an expired limit, integrates energy and rewrites the measured models. */
  private refresh(): void {
    const now = this.o.clock();
    const id = this.ctlId();
    if (this.revertAt !== null && now >= this.revertAt) {
      this.revertAt = null;
      if (id === 123) this.setPoint(123, 'WMaxLim_Ena', 0);
      else {
        const p = this.placed.get(704);
        if (p) {
          const back = this.image[p.at + pointOf(p.def, 'WMaxLimPctRvrt').offset] ?? 0xffff;
          this.image[p.at + pointOf(p.def, 'WMaxLimPct').offset] = back;
          const ena = this.image[p.at + pointOf(p.def, 'WMaxLimPctEnaRvrt').offset] ?? 0;
          this.setPoint(704, 'WMaxLimPctEna', ena === 1 ? 1 : 0);
        }
      }
    }
    if (id === 704) this.setPoint(704, 'WMaxLimPctRvrtRem', this.revertAt === null ? 0 : Math.ceil((this.revertAt - now) / 1000));
    const dtH = Math.max(0, now - this.lastMs) / 3_600_000;
    this.energyWh += this.outputW * dtH;
    const load = this.o.loadW?.(now) ?? [1200, 1000, 800];
    const grid = [0, 1, 2].map((i) => (load[i] ?? 0) - this.outputW / 3);
    for (const g of grid) {
      if (g > 0) this.meterImpWh += g * dtH;
      else this.meterExpWh -= g * dtH;
    }
    this.lastMs = now;
    const available = Math.max(0, this.o.availableW?.(now) ?? pvAt(this.o.seed ?? 7, now, this.ratingW, this.o.utcOffsetHours ?? 3));
    this.outputW = Math.min(available, this.currentLimitW());
    for (const mid of this.placed.keys()) if (!CONTROL_MODELS.has(mid)) this.rewrite(mid, { values: this.measured(mid, now, available, grid) });
  }

  private rewrite(id: number, input: EncodeInput): void {
    const p = this.placed.get(id);
    if (!p) return;
    encodeModel(p.def, input).forEach((w, i) => (this.image[p.at + i] = w));
  }

  private measured(id: number, now: number, available: number, grid: readonly number[]): Record<string, RawValue> {
    const w = Math.round(this.outputW);
    const limited = this.outputW < available - 0.5;
    const phaseA = this.outputW / 3 / 230;
    switch (id) {
      case 103:
        return {
          A: 3 * phaseA,
          AphA: phaseA,
          AphB: phaseA,
          AphC: phaseA,
          A_SF: -2,
          PhVphA: V_PHASE[0],
          PhVphB: V_PHASE[1],
          PhVphC: V_PHASE[2],
          V_SF: -1,
          W: w,
          W_SF: 0,
          Hz: 50.02,
          Hz_SF: -2,
          VA: w,
          VA_SF: 0,
          PF: 1,
          PF_SF: -2,
          WH: Math.round(this.energyWh),
          WH_SF: 0,
          TmpCab: 35.5,
          Tmp_SF: -1,
          St: w === 0 ? 2 : limited ? 5 : 4,
          Evt1: 0,
        };
      case 120:
        return { DERTyp: 4, WRtg: this.ratingW, WRtg_SF: 0, VARtg: this.ratingW, VARtg_SF: 0, ARtg: this.ratingW / 3 / 230, ARtg_SF: -2 };
      case 122:
        return {
          PVConn: 0b111,
          ECPConn: 1,
          ActWh: Math.round(this.energyWh),
          WAval: Math.round(available),
          WAval_SF: 0,
          StActCtl: limited ? 1 : 0,
          Tms: Math.floor((now - SUNSPEC_EPOCH_MS) / 1000),
        };
      case 203: {
        const total = grid.reduce((a, b) => a + b, 0);
        return {
          A: grid.reduce((a, g) => a + Math.abs(g) / 230, 0),
          AphA: Math.abs(grid[0] ?? 0) / V_PHASE[0],
          AphB: Math.abs(grid[1] ?? 0) / V_PHASE[1],
          AphC: Math.abs(grid[2] ?? 0) / V_PHASE[2],
          A_SF: -2,
          PhVphA: V_PHASE[0],
          PhVphB: V_PHASE[1],
          PhVphC: V_PHASE[2],
          V_SF: -1,
          Hz: 50.02,
          Hz_SF: -2,
          W: Math.round(total),
          WphA: Math.round(grid[0] ?? 0),
          WphB: Math.round(grid[1] ?? 0),
          WphC: Math.round(grid[2] ?? 0),
          W_SF: 0,
          TotWhExp: Math.round(this.meterExpWh),
          TotWhImp: Math.round(this.meterImpWh),
          TotWh_SF: 0,
          Evt: 0,
        };
      }
      case 701: {
        const pw = Math.round(this.outputW / 3);
        return {
          ACType: 2,
          St: 1,
          InvSt: w === 0 ? 2 : limited ? 5 : 4,
          ConnSt: 1,
          Alrm: 0,
          W: w,
          VA: w,
          W_SF: 0,
          VA_SF: 0,
          A: 3 * phaseA,
          A_SF: -2,
          Hz: 50.02,
          Hz_SF: -2,
          PF: 1,
          PF_SF: -2,
          TotWhInj: Math.round(this.energyWh),
          TotWh_SF: 0,
          WL1: pw,
          WL2: pw,
          WL3: pw,
          VL1: V_PHASE[0],
          VL2: V_PHASE[1],
          VL3: V_PHASE[2],
          V_SF: -1,
          AL1: phaseA,
          AL2: phaseA,
          AL3: phaseA,
          ThrotPct: limited ? Math.round((100 * this.outputW) / this.wMax()) : 100,
        };
      }
      default:
        return {};
    }
  }

  /** Values of the models a client configures (written once, then changed only by writes). */
  private initial(id: number): EncodeInput {
    const r = this.ratingW;
    switch (id) {
      case 1:
        return {
          values: {
            Mn: 'mgos-sim',
            Md: this.o.kind === 'legacy' ? 'SunSpec PV 1xx' : 'SunSpec DER 7xx',
            Opt: 'sim',
            Vr: '1.0.0',
            SN: `SIM-${this.o.kind}-${this.address}`,
            DA: this.address,
          },
        };
      case 121:
        return { values: { WMax: r, WMax_SF: 0, VRef: 230, VRef_SF: 0, VAMax: r, VAMax_SF: 0, ECPNomHz: 50, ECPNomHz_SF: 0, ConnPh: 3 } };
      case 123:
        return {
          values: {
            Conn: 1,
            WMaxLimPct: 100,
            WMaxLimPct_WinTms: 0,
            WMaxLimPct_RvrtTms: 0,
            WMaxLimPct_RmpTms: 0,
            WMaxLim_Ena: 0,
            WMaxLimPct_SF: 0,
            OutPFSet_SF: -3,
            VArPct_SF: 0,
          },
        };
      case 702:
        return { values: { WMaxRtg: r, VAMaxRtg: r, VNomRtg: 230, WMax: r, VAMax: r, VNom: 230, W_SF: 0, VA_SF: 0, V_SF: 0 } };
      case 703:
        return {
          values: { ES: 1, ESVHi: 253, ESVLo: 196, ESHzHi: 50.5, ESHzLo: 47.5, ESDlyTms: 60, ESRndTms: 0, ESRmpTms: 300, ESDlyRemTms: 0, V_SF: 0, Hz_SF: -2 },
        };
      case 704:
        return {
          values: {
            WMaxLimPctEna: 0,
            WMaxLimPct: 100,
            WMaxLimPctRvrt: 100,
            WMaxLimPctEnaRvrt: 0,
            WMaxLimPctRvrtTms: 0,
            WMaxLimPctRvrtRem: 0,
            WSetEna: 0,
            AntiIslEna: 1,
            WMaxLimPct_SF: -2,
            WSet_SF: 0,
            WSetPct_SF: -2,
            PF_SF: -3,
          },
        };
      case 705: {
        const pts = [
          [207, 44],
          [220, 0],
          [240, 0],
          [253, -44],
        ] as const;
        return {
          values: { Ena: 0, AdptCrvReq: 0, AdptCrvRslt: 0, NPt: pts.length, NCrv: 1, RvrtTms: 0, RvrtRem: 0, RvrtCrv: 0, V_SF: 0, DeptRef_SF: 0, RspTms_SF: 0 },
          groups: {
            Crv: [
              {
                values: { ActPt: pts.length, DeptRef: 1, Pri: 1, VRef: 230, ReadOnly: 0 },
                groups: { Pt: pts.map(([v, q]) => ({ values: { V: v, Var: q } })) },
              },
            ],
          },
        };
      }
      case 802:
        return {
          values: {
            AHRtg: 200,
            WHRtg: 10240,
            WChaRteMax: 5000,
            WDisChaRteMax: 5000,
            SoC: 62.5,
            SoCMax: 100,
            SoCMin: 10,
            SoH: 98,
            V: 51.2,
            A: 0,
            W: 0,
            AHRtg_SF: 0,
            WHRtg_SF: 0,
            WChaDisChaMax_SF: 0,
            SoC_SF: -1,
            SoH_SF: 0,
            V_SF: -1,
            A_SF: -1,
            W_SF: 0,
            ChaSt: 4,
            Typ: 4,
            State: 2,
          },
        };
      default:
        return { values: {} };
    }
  }
}

export interface SunSpecSimHandle {
  readonly device: SunSpecSimDevice;
  readonly listener: Listener;
  close(): Promise<void>;
}

/** Serves one simulated SunSpec device over Modbus TCP (MBAP) on `port` (0 = any free port). */
export async function serveSunSpecDevice(o: SunSpecSimOptions & { host?: string; port?: number }): Promise<SunSpecSimHandle> {
  const device = new SunSpecSimDevice(o);
  const slave = new RtuSlave([device]);
  const listener = await serveModbusTcp(slave, o.host ?? '127.0.0.1', o.port ?? 0);
  return {
    device,
    listener,
    close: async () => {
      await listener.close();
      slave.close();
    },
  };
}
