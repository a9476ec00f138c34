/** What sits at the head of a buffer: a complete frame of this length, maybe one later, or garbage. */
export type FrameHead = number | 'more' | 'bad';

/**
 * The buffering both simulated line framers share: bytes arrive in any chunks; subclasses cut frames
 * off the head; bytes that never complete a frame are dropped after `staleMs` of silence (a real
 * slave's t3.5 rule).
 */
export abstract class StreamFramer {
  protected buf = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly staleMs: number) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.drain(false);
    this.armStaleTimer();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buf = Buffer.alloc(0);
  }

  /** Cuts every complete frame off the head; `stale` = the line has been silent, give up on partial frames. */
  protected abstract drain(stale: boolean): void;

  /** Whether a complete frame starts at the head of `buf`. */
  protected abstract frameStartsAt(buf: Buffer): boolean;

  /** Called before a stale drain, e.g. to end a resynchronisation. */
  protected onSilence(): void {}

  protected take(n: number): Buffer {
    const frame = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return frame;
  }

  /** Offset of the next complete frame after the head, if any: everything before it is garbage. */
  protected nextFrameOffset(): number | undefined {
    for (let k = 1; k < this.buf.length; k++) if (this.frameStartsAt(this.buf.subarray(k))) return k;
    return undefined;
  }

  private armStaleTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buf.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onSilence();
      this.drain(true);
    }, this.staleMs);
    this.timer.unref();
  }
}
