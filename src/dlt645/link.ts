import type { LineSettings } from '../modbus/wire-time.js';
import { hex, isWildcard, serialToAddress } from './address.js';
import { functionOf, isReplyControl, parseFrame, type Dlt645Frame, type FrameError } from './frame.js';
import { Dlt645Framer } from './framer.js';
import { DI, energyFromPayload, formatDi, interpretReply, readAddressRequest, readDataRequest, type Dlt645Reply } from './messages.js';
import { openSerialTransport, openTcpTransport, type ByteTransport } from './transport.js';

/**
 * Request/response for DL/T645 over a raw byte link, one request at a time.
 *
 * modbus-serial cannot carry DL/T645: it only writes Modbus ADUs (unit, function code, CRC-16) and
 * cuts replies by Modbus function code, so these frames (68 ... CS 16, FE preamble, +0x33 data)
 * need their own link on the same serial port or gateway socket.
 */
export type Dlt645ErrorKind = 'timeout' | 'error-reply' | 'bad-reply' | 'closed';

export class Dlt645Error extends Error {
  override name = 'Dlt645Error';
  constructor(
    readonly kind: Dlt645ErrorKind,
    message: string,
    readonly errorByte?: number,
  ) {
    super(message);
  }
}

export interface Dlt645LinkOptions {
  /** Reply timeout per request (default 1000 ms; docs/modbus.md#rs-485-timing budgets 500-1000 ms). */
  readonly timeoutMs?: number;
}

/** The factory setting: "DL/T 645-2007 protocol, Parity (E.1), 9600 bps" (CHINT DTSU666 quick operation manual, 2016). */
export const DLT645_FACTORY_LINE: LineSettings = { baudRate: 9600, parity: 'even', stopBits: 1 };

interface Waiter {
  readonly match: (f: Dlt645Frame) => boolean;
  readonly resolve: (f: Dlt645Frame) => void;
  rejected: FrameError[];
}

const NAMES: Record<number, string> = { 0x11: 'read (0x11)', 0x13: 'read-address (0x13)' };

export class Dlt645Link {
  private readonly framer: Dlt645Framer;
  private waiter: Waiter | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closedReason: string | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly transport: ByteTransport,
    options: Dlt645LinkOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.framer = new Dlt645Framer({
      frame: (f) => {
        if (this.waiter?.match(f)) this.waiter.resolve(f);
      },
      error: (e) => this.waiter?.rejected.push(e),
    });
    transport.onData((chunk) => this.framer.push(chunk));
    transport.onClose((reason) => (this.closedReason = reason));
  }

  static async openTcp(host: string, port: number, options: Dlt645LinkOptions = {}): Promise<Dlt645Link> {
    return new Dlt645Link(await openTcpTransport(host, port), options);
  }

  static async openSerial(path: string, line: LineSettings = DLT645_FACTORY_LINE, options: Dlt645LinkOptions = {}): Promise<Dlt645Link> {
    return new Dlt645Link(await openSerialTransport(path, line), options);
  }

  get description(): string {
    return this.transport.description;
  }

  /** Broadcast read-address (AA..AA): only valid with ONE meter on the line, or replies collide. */
  async readAddress(): Promise<string> {
    const reply = await this.exchange(readAddressRequest());
    if (reply.kind !== 'address') throw this.unexpected(reply, 'read-address');
    return reply.serial;
  }

  /** The payload of a read of `di` from the meter with this 12-digit serial. */
  async readData(serial: string, di: number): Promise<Buffer> {
    const reply = await this.exchange(readDataRequest(serialToAddress(serial), di));
    if (reply.kind !== 'data') throw this.unexpected(reply, `read DI ${formatDi(di)}`);
    if (reply.di !== di) throw new Dlt645Error('bad-reply', `asked for DI ${formatDi(di)}, the reply carries DI ${formatDi(reply.di)}`);
    return reply.payload;
  }

  /** Positive active energy total (DI 00 01 00 00) in kWh. */
  async readEnergy(serial: string): Promise<number> {
    const kWh = energyFromPayload(await this.readData(serial, DI.activeImportTotal));
    if (typeof kWh === 'string') throw new Dlt645Error('bad-reply', kWh);
    return kWh;
  }

  /** Sends one request frame and resolves to the meter's reply frame (serialised with other requests). */
  request(bytes: Buffer): Promise<Dlt645Frame> {
    const result = this.tail.then(() => this.transact(bytes));
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    this.closedReason ??= 'link closed';
    return this.transport.close();
  }

  private async exchange(bytes: Buffer): Promise<Dlt645Reply> {
    const frame = await this.request(bytes);
    const parsed = parseFrame(bytes);
    const reply = interpretReply(frame, parsed.ok ? parsed.frame.control : 0);
    if (typeof reply === 'string') throw new Dlt645Error('bad-reply', reply);
    return reply;
  }

  private unexpected(reply: Dlt645Reply, what: string): Dlt645Error {
    if (reply.kind === 'error')
      return new Dlt645Error(
        'error-reply',
        `the meter refused ${what}: error byte 0x${reply.errorByte.toString(16).padStart(2, '0')} (${reply.reason})`,
        reply.errorByte,
      );
    return new Dlt645Error('bad-reply', `unexpected ${reply.kind} reply to ${what}`);
  }

  private async transact(bytes: Buffer): Promise<Dlt645Frame> {
    if (this.closedReason) throw new Dlt645Error('closed', `cannot send: ${this.closedReason}`);
    const parsed = parseFrame(bytes);
    if (!parsed.ok) throw new RangeError(`not a DL/T645 frame: ${parsed.error.message}`);
    const req = parsed.frame;
    // Anything already received is stale: it cannot be the reply to a request not yet sent.
    await this.transport.discardInput();
    this.framer.reset();
    return new Promise<Dlt645Frame>((resolve, reject) => {
      const waiter: Waiter = {
        // Our own echo (half-duplex adapters) and other meters' frames are not our reply.
        match: (f) =>
          isReplyControl(f.control) && functionOf(f.control) === functionOf(req.control) && (isWildcard(req.address) || f.address.equals(req.address)),
        resolve: (f) => finish(() => resolve(f)),
        rejected: [],
      };
      const timer = setTimeout(() => {
        const why = waiter.rejected.map((e) => e.message).join('; ');
        const name = NAMES[req.control] ?? `0x${req.control.toString(16)}`;
        const to = isWildcard(req.address) ? 'AA AA AA AA AA AA' : hex(req.address);
        finish(() =>
          reject(
            new Dlt645Error(
              'timeout',
              `no DL/T645 reply to ${name} for ${to} within ${this.timeoutMs} ms on ${this.description}${why ? `; bytes received were rejected: ${why}` : ''}`,
            ),
          ),
        );
      }, this.timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        if (this.waiter === waiter) this.waiter = undefined;
        settle();
      };
      this.waiter = waiter;
      this.transport
        .write(bytes)
        .catch((e: unknown) =>
          finish(() => reject(new Dlt645Error('closed', `cannot send on ${this.description}: ${e instanceof Error ? e.message : String(e)}`))),
        );
    });
  }
}
