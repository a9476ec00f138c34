import { parseFrame, START, type Dlt645Frame, type FrameError } from './frame.js';

/**
 * Finds DL/T645 frames in a byte stream: skips the FE preamble and any garbage before a 0x68, and
 * resynchronises after a broken frame by dropping one byte and searching for the next 0x68.
 */
export interface Dlt645FramerSink {
  frame(frame: Dlt645Frame, raw: Buffer): void;
  /** A 0x68 that did not start a valid frame (checksum, end byte, ...). */
  error?(error: FrameError): void;
  /** Bytes dropped that were neither preamble nor part of a frame. */
  dropped?(bytes: number): void;
}

export class Dlt645Framer {
  private buf = Buffer.alloc(0);

  constructor(private readonly sink: Dlt645FramerSink) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.drain();
  }

  /** Forgets buffered bytes (a master does this before each request: stale bytes are not a reply). */
  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  get pending(): number {
    return this.buf.length;
  }

  private drain(): void {
    for (;;) {
      const start = this.buf.indexOf(START);
      if (start < 0) {
        this.drop(this.buf.length);
        return;
      }
      if (start > 0) this.drop(start);
      const r = parseFrame(this.buf);
      if (r.ok) {
        const raw = Buffer.from(this.buf.subarray(0, r.length));
        this.buf = this.buf.subarray(r.length);
        this.sink.frame(r.frame, raw);
        continue;
      }
      if (r.error.code === 'truncated') {
        // Wait for more, unless a complete frame further on shows this 0x68 was garbage.
        const next = this.nextFrameOffset();
        if (next === undefined) return;
        this.drop(next);
        continue;
      }
      this.sink.error?.(r.error);
      this.drop(1);
    }
  }

  private nextFrameOffset(): number | undefined {
    for (let k = this.buf.indexOf(START, 1); k > 0; k = this.buf.indexOf(START, k + 1)) {
      if (parseFrame(this.buf.subarray(k)).ok) return k;
    }
    return undefined;
  }

  /** Preamble bytes are expected and are not reported as dropped. */
  private drop(n: number): void {
    const garbage = this.buf.subarray(0, n).filter((b) => b !== 0xfe).length;
    this.buf = this.buf.subarray(n);
    if (garbage > 0) this.sink.dropped?.(garbage);
  }
}
