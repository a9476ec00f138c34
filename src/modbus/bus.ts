import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../util/clock.js';
import type { BusConfig } from '../config/site-config.js';
import { ModbusClientClass } from './client.js';
import { classifyClientError, ModbusError } from './modbus-error.js';
import { READ_REQUEST_BYTES, readResponseBytes, t35Ms, type LineSettings } from './wire-time.js';

/** Live polling goes first; discovery scans and other background work wait for gaps. */
export type Priority = 'poll' | 'background';

export interface BusStats {
  readonly id: string;
  readonly transport: BusConfig['transport'];
  readonly connected: boolean;
  readonly requests: number;
  readonly responses: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly crcErrors: number;
  readonly exceptions: number;
  readonly bytesTx: number;
  readonly bytesRx: number;
  /** Time the line was busy with transactions, and since when the counters run. */
  readonly busyMs: number;
  readonly sinceMs: number;
  readonly lastError: string | null;
}

interface Job {
  readonly run: () => Promise<void>;
}

const WRITE_REQUEST_OVERHEAD = 9; // addr, FC, start(2), count(2), byte count, CRC(2)
const WRITE_RESPONSE_BYTES = 8;
const COIL_RESPONSE_OVERHEAD = 5; // addr, FC, byte count, CRC(2)
const WRITE_COIL_BYTES = 8; // addr, FC, coil(2), value(2), CRC(2); the reply echoes it
const RECONNECT_DELAY_MS = 2000;

/**
 * One RS-485 line (or TCP endpoint): one transaction at a time, in priority order.
 * Retries are the poller's decision (it knows whether a device is healthy); the bus tries once.
 */
export class ModbusBus {
  private readonly client = new ModbusClientClass();
  private readonly queues: Record<Priority, Job[]> = { poll: [], background: [] };
  private draining = false;
  /** While a poll cycle runs, background work waits even between the cycle's requests. */
  private holds = 0;
  private connected = false;
  private connecting: Promise<void> | null = null;
  private nextConnectAt = 0;
  private closed = false;
  private lastEndAt = 0;
  private counters = { requests: 0, responses: 0, errors: 0, timeouts: 0, crcErrors: 0, exceptions: 0, bytesTx: 0, bytesRx: 0, busyMs: 0 };
  private sinceMs: number;
  private lastError: string | null = null;

  constructor(
    readonly config: BusConfig,
    private readonly now: Clock = systemClock,
  ) {
    this.sinceMs = now();
    this.client.on('close', () => this.markDisconnected());
  }

  get id(): string {
    return this.config.id;
  }

  get line(): LineSettings {
    return { baudRate: this.config.baudRate, parity: this.config.parity, stopBits: this.config.stopBits };
  }

  readRegisters(unit: number, functionCode: 3 | 4, start: number, count: number, opts: { priority?: Priority; timeoutMs?: number } = {}): Promise<number[]> {
    return this.enqueue(opts.priority ?? 'poll', READ_REQUEST_BYTES, readResponseBytes(count), opts.timeoutMs, async () => {
      this.client.setID(unit);
      const res = functionCode === 3 ? await this.client.readHoldingRegisters(start, count) : await this.client.readInputRegisters(start, count);
      return res.data;
    });
  }

  writeRegisters(unit: number, start: number, values: readonly number[], opts: { priority?: Priority; timeoutMs?: number } = {}): Promise<void> {
    return this.enqueue(opts.priority ?? 'poll', WRITE_REQUEST_OVERHEAD + 2 * values.length, WRITE_RESPONSE_BYTES, opts.timeoutMs, async () => {
      this.client.setID(unit);
      await this.client.writeRegisters(start, [...values]);
    });
  }

  /** FC01: coil states, one boolean per coil (modbus-serial pads the reply to whole bytes; we cut it). */
  readCoils(unit: number, start: number, count: number, opts: { priority?: Priority; timeoutMs?: number } = {}): Promise<boolean[]> {
    return this.enqueue(opts.priority ?? 'poll', READ_REQUEST_BYTES, COIL_RESPONSE_OVERHEAD + Math.ceil(count / 8), opts.timeoutMs, async () => {
      this.client.setID(unit);
      const res = await this.client.readCoils(start, count);
      return res.data.slice(0, count);
    });
  }

  /** FC05 with 0xFF00 (on) or 0x0000 (off); the reply is an echo of the request. */
  writeCoil(unit: number, coil: number, on: boolean, opts: { priority?: Priority; timeoutMs?: number } = {}): Promise<void> {
    return this.enqueue(opts.priority ?? 'poll', WRITE_COIL_BYTES, WRITE_COIL_BYTES, opts.timeoutMs, async () => {
      this.client.setID(unit);
      await this.client.writeCoil(coil, on);
    });
  }

  /**
   * Keeps background requests (discovery scans) off the line until the returned release is called:
   * the poller holds it for a whole cycle, so a scan only uses the gaps between cycles.
   */
  holdBackground(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      void this.drain();
    };
  }

  stats(): BusStats {
    return { id: this.id, transport: this.config.transport, connected: this.connected, ...this.counters, sinceMs: this.sinceMs, lastError: this.lastError };
  }

  resetStats(): void {
    this.counters = { requests: 0, responses: 0, errors: 0, timeouts: 0, crcErrors: 0, exceptions: 0, bytesTx: 0, bytesRx: 0, busyMs: 0 };
    this.sinceMs = this.now();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of Object.values(this.queues)) q.length = 0;
    if (this.connected) await new Promise<void>((resolve) => this.client.close(() => resolve()));
    this.connected = false;
  }

  private enqueue<T>(priority: Priority, txBytes: number, rxBytes: number, timeoutMs: number | undefined, op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queues[priority].push({
        run: async () => {
          try {
            resolve(await this.transact(txBytes, rxBytes, timeoutMs ?? this.config.timeoutMs, op));
          } catch (e) {
            reject(classifyClientError(e)); // transact throws ModbusErrors only; this keeps the type visible
          }
        },
      });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const job = this.queues.poll.shift() ?? (this.holds > 0 ? undefined : this.queues.background.shift());
        if (!job) break;
        await job.run();
      }
    } finally {
      this.draining = false;
    }
  }

  private async transact<T>(txBytes: number, rxBytes: number, timeoutMs: number, op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ModbusError('disconnected', `bus ${this.id} is closed`);
    await this.ensureConnected();
    if (this.config.transport === 'rtu') await this.waitInterFrameSilence();
    this.client.setTimeout(timeoutMs);
    const started = performance.now();
    this.counters.requests++;
    this.counters.bytesTx += txBytes;
    try {
      const result = await op();
      this.counters.responses++;
      this.counters.bytesRx += rxBytes;
      return result;
    } catch (e) {
      const err = classifyClientError(e);
      this.counters.errors++;
      if (err.kind === 'timeout') this.counters.timeouts++;
      if (err.kind === 'crc') this.counters.crcErrors++;
      if (err.kind === 'exception') this.counters.exceptions++;
      if (err.kind === 'disconnected') this.markDisconnected();
      this.lastError = err.message;
      throw err;
    } finally {
      this.counters.busyMs += performance.now() - started;
      this.lastEndAt = performance.now();
    }
  }

  /** On a real serial line the master must leave t3.5 of silence between frames. */
  private async waitInterFrameSilence(): Promise<void> {
    const wait = this.lastEndAt + t35Ms(this.line) - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
  }

  private markDisconnected(): void {
    this.connected = false;
    this.nextConnectAt = performance.now() + RECONNECT_DELAY_MS; // a duration: monotonic
  }

  private async ensureConnected(): Promise<void> {
    if (this.connected && this.client.isOpen) return;
    if (performance.now() < this.nextConnectAt) throw new ModbusError('disconnected', `bus ${this.id} is not connected (${this.lastError ?? 'reconnecting'})`);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    await this.connecting;
  }

  private async connect(): Promise<void> {
    const c = this.config;
    try {
      if (c.transport === 'rtu') {
        await this.client.connectRTUBuffered(c.path, { baudRate: c.baudRate, parity: c.parity, stopBits: c.stopBits, dataBits: c.dataBits });
      } else if (c.transport === 'rtu-over-tcp') {
        await this.client.connectTelnet(c.host, { port: c.port, timeout: 0 });
      } else {
        await this.client.connectTCP(c.host, { port: c.port });
      }
      this.connected = true;
    } catch (e) {
      this.markDisconnected();
      this.lastError = `cannot connect: ${(e as Error).message}`;
      throw new ModbusError('disconnected', `bus ${this.id}: ${this.lastError}`);
    }
  }
}
