/**
 * Unsigned LEB128 integers, as the chunk codec and the journal write them: 7 bits a byte, low
 * bits first, the high bit set on every byte but the last. `what` names the format in errors.
 */
export function pushVarint(out: number[], x: number, what: string): void {
  if (!Number.isInteger(x) || x < 0) throw new Error(`${what}: cannot encode ${x}`);
  while (x >= 0x80) {
    out.push((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  out.push(x);
}

export class VarintReader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
  ) {}

  varint(): number {
    let x = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Error(`${this.what}: truncated`);
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 0x80;
    }
  }
}
