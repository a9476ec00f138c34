/**
 * Back-off for devices that stop answering: a dead meter must never cost the healthy ones more than
 * one timeout every few cycles. After the k-th consecutive failure it is skipped for 2^(k-1) cycles,
 * at most MAX_SKIP; it gets retries only while it was healthy.
 */
export const MAX_SKIP_CYCLES = 8;

export class DeviceHealth {
  private failures = 0;
  private skipUntil = 0;

  /** Is this device due in cycle n? */
  due(cycle: number): boolean {
    return cycle >= this.skipUntil;
  }

  /** A healthy device deserves a retry; a known-dead one does not. */
  get retriesAllowed(): boolean {
    return this.failures === 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  succeeded(): void {
    this.failures = 0;
    this.skipUntil = 0;
  }

  failed(cycle: number): void {
    this.failures++;
    const skip = Math.min(2 ** (this.failures - 1), MAX_SKIP_CYCLES);
    this.skipUntil = cycle + 1 + skip;
  }
}
