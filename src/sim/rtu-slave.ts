import { performance } from 'node:perf_hooks';
import { withCrc } from '../modbus/crc.js';
import { charMs, t35Ms, type LineSettings } from '../modbus/wire-time.js';
import { EXCEPTION, type RegisterDevice } from './device.js';
import { exceptionPdu, serveBroadcast, servePdu } from './pdu.js';
import { RtuFramer } from './rtu-framer.js';

/**
 * One RS-485 bus of simulated devices. Requests from any number of links (a TCP client, a serial
 * port) share the half-duplex line: they are served one at a time, in arrival order. With line-speed
 * emulation, a request that arrives at t is answered at
 *   t + wire(request) + t3.5 + turnaround + wire(response)
 * and the line is free again t3.5 after that, so one transaction costs exactly the physical minimum of
 * docs/modbus.md#rs-485-timing plus the meter's turnaround.
 */
export interface LineSpeed extends LineSettings {
  /** Time the meter takes to start answering after the request's t3.5 (real meters: 20-100 ms). */
  readonly turnaroundMs?: number;
}

export interface RtuSlaveOptions {
  readonly lineSpeed?: LineSpeed;
  /** Called before each request is served, e.g. to advance the site model to now. */
  readonly beforeServe?: () => void;
  /** Silence after which an incomplete frame is dropped (ms). */
  readonly staleMs?: number;
}

export interface BusCounters {
  /** CRC-valid request frames seen on the line. */
  requests: number;
  replies: number;
  exceptions: number;
  /** Request frames that failed their CRC (no reply, like a real slave). */
  crcErrors: number;
  /** Requests for an address nobody has. */
  ignored: number;
  /** Requests a silenced device did not answer. */
  silenced: number;
  /** Replies sent with a broken frame on purpose. */
  corrupted: number;
  /** Two devices on one address answered at once. */
  collisions: number;
  broadcasts: number;
  droppedBytes: number;
}

export type Fault = 'silent' | 'corrupt';

export interface RtuLink {
  receive(chunk: Buffer): void;
  close(): void;
}

const zeroCounters = (): BusCounters => ({
  requests: 0,
  replies: 0,
  exceptions: 0,
  crcErrors: 0,
  ignored: 0,
  silenced: 0,
  corrupted: 0,
  collisions: 0,
  broadcasts: 0,
  droppedBytes: 0,
});

/** A reply the master must reject: the last data byte flipped, the CRC left as it was. */
function breakFrame(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  const i = out.length - 3;
  out.writeUInt8(out.readUInt8(i) ^ 0xff, i);
  return out;
}

export class RtuSlave {
  private readonly deviceList: RegisterDevice[] = [];
  private readonly faults = new Map<RegisterDevice, Fault>();
  private readonly count = zeroCounters();
  private tail: Promise<unknown> = Promise.resolve();
  private busFreeAt = 0;
  private closed = false;
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(
    devices: Iterable<RegisterDevice> = [],
    private readonly options: RtuSlaveOptions = {},
  ) {
    for (const d of devices) this.addDevice(d);
  }

  get devices(): readonly RegisterDevice[] {
    return this.deviceList;
  }

  get lineSpeed(): LineSpeed | undefined {
    return this.options.lineSpeed;
  }

  addDevice(device: RegisterDevice): void {
    if (!this.deviceList.includes(device)) this.deviceList.push(device);
  }

  removeDevice(device: RegisterDevice): void {
    const i = this.deviceList.indexOf(device);
    if (i >= 0) this.deviceList.splice(i, 1);
    this.faults.delete(device);
  }

  deviceAt(address: number): RegisterDevice | undefined {
    return this.deviceList.find((d) => d.address === address);
  }

  /** The device now at `address` stops answering (the fault follows the device if its address changes). */
  silence(address: number): void {
    this.faults.set(this.requireDevice(address), 'silent');
  }

  /** The device now at `address` answers with broken frames. */
  corrupt(address: number): void {
    this.faults.set(this.requireDevice(address), 'corrupt');
  }

  restore(address: number): void {
    this.faults.delete(this.requireDevice(address));
  }

  counters(): Readonly<BusCounters> {
    return { ...this.count };
  }

  /** A byte-stream connection to the bus (TCP client, serial port); replies go to `write`. */
  openLink(write: (reply: Buffer) => void): RtuLink {
    let open = true;
    const framer = new RtuFramer(
      {
        frame: (f) => void this.submit(f).then((reply) => reply && open && write(reply)),
        crcError: () => {
          this.count.crcErrors++;
        },
        dropped: (n) => void (this.count.droppedBytes += n),
      },
      this.options.staleMs,
    );
    return {
      receive: (chunk) => framer.push(chunk),
      close: () => {
        open = false;
        framer.close();
      },
    };
  }

  /** Serves one CRC-checked request frame in its turn on the line; resolves to the reply frame, or undefined for none. */
  submit(frame: Buffer): Promise<Buffer | undefined> {
    const arrivedAt = performance.now();
    const result = this.tail.then(() => this.transact(frame, arrivedAt));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Stops all pending transactions (they resolve without a reply). */
  close(): void {
    this.closed = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waits.clear();
  }

  private async transact(frame: Buffer, arrivedAt: number): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    const line = this.options.lineSpeed;
    if (!line) return this.serve(frame);
    const char = charMs(line);
    const t35 = t35Ms(line);
    const requestEnd = Math.max(arrivedAt, this.busFreeAt) + frame.length * char;
    const reply = this.serve(frame);
    if (!reply) {
      this.busFreeAt = requestEnd + t35;
      return undefined;
    }
    const replyEnd = requestEnd + t35 + (line.turnaroundMs ?? 0) + reply.length * char;
    this.busFreeAt = replyEnd + t35;
    await this.sleepUntil(replyEnd);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may have run during the wait
    return this.closed ? undefined : reply;
  }

  private serve(frame: Buffer): Buffer | undefined {
    const unit = frame.readUInt8(0);
    const pdu = frame.subarray(1, frame.length - 2);
    this.count.requests++;
    this.options.beforeServe?.();
    if (unit === 0) {
      this.count.broadcasts++;
      serveBroadcast(this.deviceList, pdu);
      return undefined;
    }
    const targets = this.deviceList.filter((d) => d.address === unit);
    if (targets.length === 0) {
      this.count.ignored++;
      return undefined;
    }
    const answering = targets.filter((d) => this.faults.get(d) !== 'silent');
    this.count.silenced += targets.length - answering.length;
    const [first] = answering;
    if (!first) return undefined;
    const replies = answering.map((d) => withCrc(Buffer.concat([Buffer.from([unit]), this.respond(d, pdu)])));
    const reply = replies[0] ?? Buffer.alloc(0);
    if (answering.length > 1) {
      // Two transmitters at once: the master hears garbage.
      this.count.collisions++;
      return breakFrame(reply);
    }
    this.count.replies++;
    if ((reply.readUInt8(1) & 0x80) !== 0) this.count.exceptions++;
    if (this.faults.get(first) === 'corrupt') {
      this.count.corrupted++;
      return breakFrame(reply);
    }
    return reply;
  }

  private respond(device: RegisterDevice, pdu: Buffer): Buffer {
    try {
      return servePdu(device, pdu);
    } catch {
      return exceptionPdu(pdu.readUInt8(0), EXCEPTION.deviceFailure);
    }
  }

  private requireDevice(address: number): RegisterDevice {
    const d = this.deviceAt(address);
    if (!d) throw new RangeError(`no simulated device answers on address ${address}`);
    return d;
  }

  /** Waits until performance.now() >= t; timers may fire early by a fraction of a millisecond, so re-check. */
  private async sleepUntil(t: number): Promise<void> {
    while (!this.closed && performance.now() < t) {
      await new Promise<void>((resolve) => {
        const w = {
          timer: setTimeout(
            () => {
              this.waits.delete(w);
              resolve();
            },
            Math.max(1, Math.ceil(t - performance.now())),
          ),
          resolve,
        };
        this.waits.add(w);
      });
    }
  }
}
