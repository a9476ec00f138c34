import net from 'node:net';
import type { ChannelValue } from '../channels/value.js';
import type { ControlRuntime } from '../edge/control-runtime.js';
import { decode, encode, fieldAt, MAP_VERSION, REGISTER_MAP, WIDTH, type RegisterDef, type Role } from './register-map.js';
import type { ScadaConfig } from './scada-config.js';

/**
 * Modbus TCP server for SCADA (issue 12 item 4; map in register-map.ts, docs/scada-modbus.md).
 * Reads (FC03, FC04) come from the process image; writes (FC06, FC16) of the battery mode, battery
 * setpoint, PV limit and control mode go through the edge cycle's governance as overrides or mode
 * changes by the user "scada" (operator role; the allow-list stands in for a login) and are audited
 * there. Exceptions (Modbus application protocol V1.1b §7): 01 a function this client may not use
 * (unknown, or a write from a read-only address), 02 an address outside the map or a write that does
 * not cover whole writable fields, 03 a bad count or a value out of range, 04 governance refused, 0B
 * another unit id. A client whose address is on neither list is disconnected at once.
 */
export const SCADA_USER = 'scada';

export const EXCEPTION = { illegalFunction: 1, illegalAddress: 2, illegalValue: 3, deviceFailure: 4, gatewayTargetFailed: 0x0b } as const;

export interface ScadaDeps {
  readonly config: ScadaConfig;
  readonly image: { get(component: string, channel: string): ChannelValue | undefined };
  /** Severities of the open alarms. */
  readonly openAlarms: () => readonly string[];
  readonly control: ControlRuntime | null;
  readonly log?: (message: string) => void;
}

export interface ScadaServer {
  readonly host: string;
  readonly port: number;
  readonly stats: { requests: number; refused: number; rejectedConnections: number };
  close(): Promise<void>;
}

class Refused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { info: 1, minor: 2, major: 3, critical: 4 };
const MODES = ['idle', 'charge', 'discharge'] as const;

/** IPv4 addresses arrive as ::ffff:a.b.c.d on a dual-stack socket. */
const plain = (a: string | undefined): string => (a ?? '').replace(/^::ffff:/, '');

export class ScadaRegisters {
  private overrideMinutes: number;
  /** The battery override this server wrote last (to tell a mode from a setpoint on read). */
  private batteryOverride: { id: number; mode: number } | null = null;
  private modeIndex = 0;
  private modeList: readonly unknown[] | null;
  /** The site file's controllers, kept at the start so mode 0 can return to them. */
  private initialControllers: readonly unknown[] | null = null;

  constructor(private readonly d: ScadaDeps) {
    this.overrideMinutes = d.config.overrideMinutes;
    this.modeList = d.control?.controllerConfigList() ?? null;
  }

  private caps() {
    return this.d.control?.cycle.controlPlan.caps ?? null;
  }

  private component(role: Role): string | null {
    const c = this.caps();
    if (!c) return null;
    return (role === 'grid' ? c.grid?.component : role === 'battery' ? c.batteries[0]?.component : c.pv[0]?.component) ?? null;
  }

  private channel(role: Role, channel: string): number | null {
    const comp = this.component(role);
    const v = comp ? this.d.image.get(comp, channel) : undefined;
    return v && v.quality === 'GOOD' && v.value !== null ? v.value : null;
  }

  private overridesOf(asset: string | null) {
    if (!asset || !this.d.control) return [];
    return [...this.d.control.gov.overrides.values()].filter((o) => o.asset === asset);
  }

  /** The physical value of one field now, or null (not available). */
  valueOf(def: RegisterDef): number | null {
    const s = def.source;
    const caps = this.caps();
    const battery = caps?.batteries[0];
    const pv = caps?.pv[0];
    switch (s.kind) {
      case 'channel':
        return this.channel(s.role, s.channel);
      case 'limit':
        return s.limit === 'batteryMaxChargeW'
          ? (battery?.maxChargeW ?? null)
          : s.limit === 'batteryMaxDischargeW'
            ? (battery?.maxDischargeW ?? null)
            : (pv?.ratedW ?? null);
    }
    switch (s.state) {
      case 'mapVersion':
        return MAP_VERSION;
      case 'qualityFlags':
        return REGISTER_MAP.reduce(
          (bits, r) => (r.source.kind === 'channel' && this.channel(r.source.role, r.source.channel) === null ? bits | (1 << r.source.qualityBit) : bits),
          0,
        );
      case 'alarmsOpen':
        return this.d.openAlarms().length;
      case 'alarmWorst':
        return Math.max(0, ...this.d.openAlarms().map((s) => SEVERITY_RANK[s] ?? 0));
      case 'eStop':
        return this.d.control?.cycle.lastEnvelope?.eStop ? 1 : 0;
      case 'controlPresent':
        return this.d.control ? 1 : 0;
      case 'batteryMode': {
        const os = this.overridesOf(battery?.component ?? null);
        if (os.length === 0) return 0;
        return this.batteryOverride && os.every((o) => o.id === this.batteryOverride?.id) ? this.batteryOverride.mode : 4;
      }
      case 'batterySetpoint': {
        const os = this.overridesOf(battery?.component ?? null);
        return os.length ? os.reduce((a, o) => a + o.value, 0) : null;
      }
      case 'pvLimitSetpoint': {
        const os = this.overridesOf(pv?.component ?? null);
        return os.length ? os.reduce((a, o) => a + o.value, 0) : null;
      }
      case 'overrideMinutes':
        return this.overrideMinutes;
      case 'controlMode':
        return this.d.control && this.d.control.controllerConfigList() === this.modeList ? this.modeIndex : null;
    }
  }

  read(start: number, count: number): number[] {
    const words: number[] = [];
    let a = start;
    while (a < start + count) {
      const f = fieldAt(a);
      if (!f) throw new Refused(EXCEPTION.illegalAddress, `register ${a} is not in the map`);
      const v = this.valueOf(f.def);
      const enc = encode(f.def, v === null ? null : v / f.def.scale);
      for (let i = f.offset; i < enc.length && a < start + count; i++, a++) words.push(enc[i] ?? 0);
    }
    return words;
  }

  /** Validates every field first, then applies them in address order. */
  write(start: number, words: readonly number[], client: string): void {
    const fields: Array<{ def: RegisterDef; value: number }> = [];
    let a = start;
    while (a < start + words.length) {
      const f = fieldAt(a);
      if (!f || f.offset !== 0 || f.def.access !== 'rw') throw new Refused(EXCEPTION.illegalAddress, `register ${a} is not the start of a writable field`);
      const w = WIDTH[f.def.type];
      if (a + w > start + words.length) throw new Refused(EXCEPTION.illegalAddress, `${f.def.name} takes ${w} registers`);
      const value = decode(f.def, words.slice(a - start, a - start + w));
      this.check(f.def, value);
      fields.push({ def: f.def, value });
      a += w;
    }
    for (const f of fields) this.apply(f.def, f.value, client);
  }

  private control(): ControlRuntime {
    if (!this.d.control) throw new Refused(EXCEPTION.deviceFailure, 'the edge cycle does not run: nothing to steer');
    return this.d.control;
  }

  private check(def: RegisterDef, v: number): void {
    const out = (why: string) => new Refused(EXCEPTION.illegalValue, `${def.name} = ${v}: ${why}`);
    if (def.range && (v < def.range.min || v > def.range.max)) throw out(`outside ${def.range.min}..${def.range.max}`);
    const caps = this.caps();
    if (def.name === 'batterySetpoint') {
      const b = caps?.batteries[0];
      if (!b) throw new Refused(EXCEPTION.deviceFailure, 'no battery to steer');
      if (v < -b.maxChargeW || v > b.maxDischargeW) throw out(`outside -${b.maxChargeW}..${b.maxDischargeW} W`);
    }
    if (def.name === 'pvLimitSetpoint') {
      const p = caps?.pv[0];
      if (!p) throw new Refused(EXCEPTION.deviceFailure, 'no PV inverter to steer');
      if (v !== -1 && (v < 0 || v > p.ratedW)) throw out(`outside 0..${p.ratedW} W (-1 ends the override)`);
    }
    if (def.name === 'controlMode' && v > this.d.config.modes.length) throw out(`only modes 0..${this.d.config.modes.length} are configured`);
  }

  private governed<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Refused) throw e;
      throw new Refused(EXCEPTION.deviceFailure, `governance refused: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private apply(def: RegisterDef, v: number, client: string): void {
    const why = `SCADA write from ${client}: ${def.name} = ${v}`;
    const caps = this.caps();
    switch (def.name) {
      case 'overrideMinutes':
        this.overrideMinutes = v;
        return;
      case 'batteryMode': {
        const c = this.control();
        const b = caps?.batteries[0];
        if (!b) throw new Refused(EXCEPTION.deviceFailure, 'no battery to steer');
        if (v === 0) {
          this.governed(() => c.releaseOverride(b.component, SCADA_USER, why));
          this.batteryOverride = null;
          return;
        }
        const mode = MODES[v - 1] ?? 'idle';
        const o = this.governed(() => c.override({ asset: b.component, mode, minutes: this.overrideMinutes, reason: why }, SCADA_USER));
        this.batteryOverride = { id: o.id, mode: v };
        return;
      }
      case 'batterySetpoint': {
        const c = this.control();
        const b = caps?.batteries[0];
        if (!b) throw new Refused(EXCEPTION.deviceFailure, 'no battery to steer');
        this.governed(() => c.override({ asset: b.component, setpoint: v, minutes: this.overrideMinutes, reason: why }, SCADA_USER));
        this.batteryOverride = null;
        return;
      }
      case 'pvLimitSetpoint': {
        const c = this.control();
        const p = caps?.pv[0];
        if (!p) throw new Refused(EXCEPTION.deviceFailure, 'no PV inverter to steer');
        if (v === -1) this.governed(() => c.releaseOverride(p.component, SCADA_USER, why));
        else this.governed(() => c.override({ asset: p.component, setpoint: v, minutes: this.overrideMinutes, reason: why }, SCADA_USER));
        return;
      }
      case 'controlMode': {
        const c = this.control();
        const initial = this.initialControllers ?? c.controllerConfigList();
        this.initialControllers = initial;
        const mode = v === 0 ? { name: 'site file', controllers: initial } : this.d.config.modes[v - 1];
        if (!mode) throw new Refused(EXCEPTION.illegalValue, `no mode ${v}`);
        this.governed(() => c.setMode(mode.controllers, SCADA_USER, `${why} (${mode.name})`));
        this.modeIndex = v;
        this.modeList = c.controllerConfigList();
        return;
      }
    }
  }

  rememberInitial(): void {
    this.initialControllers = this.d.control?.controllerConfigList() ?? null;
  }
}

const MBAP = 7;
const MAX_READ = 125;
const MAX_WRITE = 123;

function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

/** One request PDU -> the response PDU. */
export function answer(regs: ScadaRegisters, pdu: Buffer, client: string, mayWrite: boolean, onRefused: (fc: number, e: Refused) => void): Buffer {
  const fc = pdu.readUInt8(0);
  try {
    if (fc === 3 || fc === 4) {
      if (pdu.length !== 5) throw new Refused(EXCEPTION.illegalValue, 'bad read request length');
      const start = pdu.readUInt16BE(1);
      const count = pdu.readUInt16BE(3);
      if (count < 1 || count > MAX_READ) throw new Refused(EXCEPTION.illegalValue, `count ${count} outside 1..${MAX_READ}`);
      const words = regs.read(start, count);
      const out = Buffer.alloc(2 + 2 * count);
      out.writeUInt8(fc, 0);
      out.writeUInt8(2 * count, 1);
      words.forEach((w, i) => out.writeUInt16BE(w & 0xffff, 2 + 2 * i));
      return out;
    }
    if (fc === 6 || fc === 16) {
      if (!mayWrite) throw new Refused(EXCEPTION.illegalFunction, `${client} may only read`);
      if (fc === 6) {
        if (pdu.length !== 5) throw new Refused(EXCEPTION.illegalValue, 'bad write request length');
        regs.write(pdu.readUInt16BE(1), [pdu.readUInt16BE(3)], client);
        return Buffer.from(pdu);
      }
      if (pdu.length < 6) throw new Refused(EXCEPTION.illegalValue, 'bad write request length');
      const start = pdu.readUInt16BE(1);
      const count = pdu.readUInt16BE(3);
      const bytes = pdu.readUInt8(5);
      if (count < 1 || count > MAX_WRITE || bytes !== 2 * count || pdu.length !== 6 + bytes)
        throw new Refused(EXCEPTION.illegalValue, 'bad write request length');
      regs.write(
        start,
        Array.from({ length: count }, (_, i) => pdu.readUInt16BE(6 + 2 * i)),
        client,
      );
      return pdu.subarray(0, 5);
    }
    throw new Refused(EXCEPTION.illegalFunction, `function ${fc} is not served`);
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    onRefused(fc, e);
    return exceptionPdu(fc, e.code);
  }
}

export async function startScadaServer(d: ScadaDeps, o: { host?: string; port?: number } = {}): Promise<ScadaServer> {
  const regs = new ScadaRegisters(d);
  regs.rememberInitial();
  const allow = new Set(d.config.allow);
  const readOnly = new Set(d.config.readOnly);
  const stats = { requests: 0, refused: 0, rejectedConnections: 0 };
  const sockets = new Set<net.Socket>();
  const log = d.log ?? (() => undefined);
  const server = net.createServer((socket) => {
    const client = plain(socket.remoteAddress);
    socket.on('error', () => socket.destroy());
    if (!allow.has(client) && !readOnly.has(client)) {
      stats.rejectedConnections++;
      log(`scada: connection from ${client} refused (not on the allow-list)`);
      socket.destroy();
      return;
    }
    const mayWrite = allow.has(client);
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= MBAP) {
        const length = buf.readUInt16BE(4);
        if (buf.readUInt16BE(2) !== 0 || length < 2 || length > 254) {
          socket.destroy(); // not Modbus TCP
          return;
        }
        if (buf.length < 6 + length) break;
        const adu = buf.subarray(0, 6 + length);
        buf = buf.subarray(6 + length);
        stats.requests++;
        const unit = adu.readUInt8(6);
        const pdu = adu.subarray(7);
        const reply =
          unit !== d.config.unitId && unit !== 0xff
            ? exceptionPdu(pdu.readUInt8(0), EXCEPTION.gatewayTargetFailed)
            : answer(regs, pdu, client, mayWrite, (fc, e) => {
                stats.refused++;
                log(`scada: ${client} function ${fc} refused (exception ${e.code}): ${e.message}`);
              });
        const out = Buffer.alloc(MBAP + reply.length);
        adu.copy(out, 0, 0, 4);
        out.writeUInt16BE(reply.length + 1, 4);
        out.writeUInt8(unit, 6);
        reply.copy(out, MBAP);
        if (!socket.destroyed) socket.write(out);
      }
    });
  });
  const host = o.host ?? d.config.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? d.config.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? d.config.port);
  return {
    host,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
