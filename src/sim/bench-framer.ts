import { parseFrame, PREAMBLE, START, type Dlt645Frame } from '../dlt645/frame.js';
import { rtuRequestAt } from './rtu-framer.js';
import { StreamFramer, type FrameHead } from './stream-framer.js';

/**
 * Cuts a bench line's byte stream into DL/T645 frames and Modbus RTU requests. A DL/T645 frame
 * starts with FE (preamble) or 68; so does an RTU request to unit 0x68 (104, a valid three-phase
 * address in the guide's plan), so a 68 head is decided by which frame completes and checks out
 * (DL/T645: second 68, CS, 16; RTU: CRC). RTU sizing is rtu-framer's.
 */
export interface BenchFramerSink {
  dlt645(frame: Dlt645Frame, raw: Buffer): void;
  rtu(frame: Buffer): void;
  dropped(bytes: number): void;
}

function dlt645At(buf: Buffer): FrameHead {
  if (buf[0] !== PREAMBLE && buf[0] !== START) return 'bad';
  const r = parseFrame(buf);
  if (r.ok) return r.length;
  return r.error.code === 'truncated' ? 'more' : 'bad';
}

export class BenchFramer extends StreamFramer {
  constructor(
    private readonly sink: BenchFramerSink,
    staleMs = 50,
  ) {
    super(staleMs);
  }

  protected override drain(stale: boolean): void {
    while (this.buf.length > 0) {
      const d = dlt645At(this.buf);
      const parsed = typeof d === 'number' ? parseFrame(this.buf.subarray(0, d)) : undefined;
      if (parsed?.ok) {
        this.sink.dlt645(parsed.frame, this.take(parsed.length));
        continue;
      }
      const r = rtuRequestAt(this.buf);
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

  protected override frameStartsAt(buf: Buffer): boolean {
    return typeof dlt645At(buf) === 'number' || typeof rtuRequestAt(buf) === 'number';
  }

  /** The FE wake-up preamble is not garbage. */
  private drop(n: number): void {
    const garbage = this.buf.subarray(0, n).filter((b) => b !== PREAMBLE).length;
    this.buf = this.buf.subarray(n);
    if (garbage > 0) this.sink.dropped(garbage);
  }
}
