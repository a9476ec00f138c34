import { parseFrame, PREAMBLE, START, type Dlt645Frame } from '../dlt645/frame.js';
import { hasValidCrc } from '../modbus/crc.js';
import { MAX_RTU_FRAME, requestLength } from './rtu-framer.js';

/**
 * Cuts a bench line's byte stream into DL/T645 frames and Modbus RTU requests. A DL/T645 frame
 * starts with FE (preamble) or 68; so does an RTU request to unit 0x68 (104, a valid three-phase
 * address in the guide's plan), so a 68 head is decided by which frame completes and checks out
 * (DL/T645: second 68, CS, 16; RTU: CRC). RTU sizing reuses rtu-framer's requestLength.
 */
export interface BenchFramerSink {
  dlt645(frame: Dlt645Frame, raw: Buffer): void;
  rtu(frame: Buffer): void;
  dropped(bytes: number): void;
}

type Head = number | 'more' | 'bad';

function dlt645At(buf: Buffer): Head {
  if (buf[0] !== PREAMBLE && buf[0] !== START) return 'bad';
  const r = parseFrame(buf);
  if (r.ok) return r.length;
  return r.error.code === 'truncated' ? 'more' : 'bad';
}

/** Same rule as RtuFramer: size by function code, else the shortest prefix with a valid CRC. */
function rtuAt(buf: Buffer): Head {
  const len = requestLength(buf);
  if (len === 'more') return 'more';
  if (len === 'unknown') {
    for (let n = 4; n <= Math.min(buf.length, MAX_RTU_FRAME); n++) if (hasValidCrc(buf.subarray(0, n))) return n;
    return buf.length >= MAX_RTU_FRAME ? 'bad' : 'more';
  }
  if (buf.length < len) return 'more';
  return hasValidCrc(buf.subarray(0, len)) ? len : 'bad';
}

export class BenchFramer {
  private buf = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: BenchFramerSink,
    private readonly staleMs = 50,
  ) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.drain(false);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buf.length === 0) return;
    // Bytes that never complete a frame are dropped after a silence (a slave's t3.5 rule).
    this.timer = setTimeout(() => ((this.timer = undefined), this.drain(true)), this.staleMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buf = Buffer.alloc(0);
  }

  private drain(stale: boolean): void {
    while (this.buf.length > 0) {
      const d = dlt645At(this.buf);
      const parsed = typeof d === 'number' ? parseFrame(this.buf.subarray(0, d)) : undefined;
      if (parsed?.ok) {
        this.sink.dlt645(parsed.frame, this.take(parsed.length));
        continue;
      }
      const r = rtuAt(this.buf);
      if (typeof r === 'number') {
        this.sink.rtu(this.take(r));
      } else if (d === 'bad' && r === 'bad') {
        this.drop(1);
      } else {
        const skip = this.nextFrameOffset();
        if (skip !== undefined) this.drop(skip);
        else if (stale) this.drop(1);
        else return;
      }
    }
  }

  private take(n: number): Buffer {
    const frame = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return frame;
  }

  private nextFrameOffset(): number | undefined {
    for (let k = 1; k < this.buf.length; k++) {
      const rest = this.buf.subarray(k);
      if (typeof dlt645At(rest) === 'number' || typeof rtuAt(rest) === 'number') return k;
    }
    return undefined;
  }

  private drop(n: number): void {
    const garbage = this.buf.subarray(0, n).filter((b) => b !== PREAMBLE).length;
    this.buf = this.buf.subarray(n);
    if (garbage > 0) this.sink.dropped(garbage);
  }
}
