import { hasValidCrc } from '../modbus/crc.js';
import { StreamFramer, type FrameHead } from './stream-framer.js';

/**
 * Cuts a byte stream into RTU request frames by length, the way a slave that knows the function
 * codes does: the request length follows from the function code (and the byte count for FC15/16/23).
 * A frame whose CRC fails is counted and resynchronised by dropping bytes one at a time; bytes that
 * never complete a frame are dropped after `staleMs` of silence (a real slave uses t3.5).
 */
export const MAX_RTU_FRAME = 256; // MODBUS_RTU_MAX_ADU_LENGTH (libmodbus)

type Length = number | 'more' | 'unknown';

/** Length of the request at the head of `buf` (address, FC, data, CRC). */
export function requestLength(buf: Buffer): Length {
  if (buf.length < 2) return 'more';
  const fc = buf.readUInt8(1);
  const withCount = (countAt: number, fixed: number): Length => (buf.length <= countAt ? 'more' : fixed + buf.readUInt8(countAt));
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 8:
      return 8;
    case 7:
    case 11:
    case 12:
    case 17:
      return 4;
    case 15:
    case 16:
      return withCount(6, 9);
    case 20:
    case 21:
      return withCount(2, 5);
    case 22:
      return 10;
    case 23:
      return withCount(10, 13);
    case 24:
      return 6;
    default:
      return 'unknown';
  }
}

/** The shortest prefix that ends in a valid CRC, for function codes we cannot size. */
function lengthByCrc(buf: Buffer): number | undefined {
  for (let n = 4; n <= Math.min(buf.length, MAX_RTU_FRAME); n++) if (hasValidCrc(buf.subarray(0, n))) return n;
  return undefined;
}

/** A complete, CRC-valid frame at the head of `buf`, its length; 'more' if it may still complete; 'bad' if not. */
export function rtuRequestAt(buf: Buffer): FrameHead {
  const len = requestLength(buf);
  if (len === 'unknown') return lengthByCrc(buf) ?? (buf.length >= MAX_RTU_FRAME ? 'bad' : 'more');
  if (len === 'more' || buf.length < len) return len === 'more' || len <= MAX_RTU_FRAME ? 'more' : 'bad';
  return hasValidCrc(buf.subarray(0, len)) ? len : 'bad';
}

export interface FramerSink {
  frame(frame: Buffer): void;
  crcError(): void;
  dropped(bytes: number): void;
}

export class RtuFramer extends StreamFramer {
  private resyncing = false;

  constructor(
    private readonly sink: FramerSink,
    staleMs = 50,
  ) {
    super(staleMs);
  }

  protected override drain(stale: boolean): void {
    while (this.buf.length > 0) {
      const head = rtuRequestAt(this.buf);
      if (typeof head === 'number') {
        this.resyncing = false;
        this.sink.frame(this.take(head));
      } else if (head === 'bad') {
        if (!this.resyncing && requestLength(this.buf) !== 'unknown') this.sink.crcError();
        this.resyncing = true;
        this.drop(1);
      } else {
        // Incomplete head: a complete frame further on means the head was garbage.
        const skip = this.nextFrameOffset();
        if (skip !== undefined) this.drop(skip);
        else if (stale) this.drop(1);
        else return;
      }
    }
  }

  protected override frameStartsAt(buf: Buffer): boolean {
    return buf.length > 3 && typeof rtuRequestAt(buf) === 'number';
  }

  protected override onSilence(): void {
    this.resyncing = false;
  }

  private drop(n: number): void {
    this.buf = this.buf.subarray(n);
    this.sink.dropped(n);
  }
}
