import { BenchFramer } from './bench-framer.js';
import type { FactoryMeter } from './factory-meter.js';
import { RtuSlave, type RtuLink, type RtuSlaveOptions } from './rtu-slave.js';

/**
 * A lab bench line with one factory-fresh meter on it. It is an RtuSlave (same serving, line-speed
 * emulation, faults and counters for Modbus), whose links also carry DL/T645: each frame goes to the
 * meter only if the meter speaks that protocol now, as a real meter ignores the other one.
 */
export interface BenchCounters {
  dlt645Frames: number;
  /** Frames in the protocol the meter does not speak now (e.g. Modbus before the panel switch). */
  wrongProtocol: number;
  droppedBytes: number;
}

export class BenchSlave extends RtuSlave {
  private readonly bench: BenchCounters = { dlt645Frames: 0, wrongProtocol: 0, droppedBytes: 0 };

  constructor(
    readonly meter: FactoryMeter,
    private readonly benchOptions: RtuSlaveOptions = {},
  ) {
    super([meter.modbus], benchOptions);
  }

  benchCounters(): Readonly<BenchCounters> {
    return { ...this.bench };
  }

  override openLink(write: (reply: Buffer) => void): RtuLink {
    let open = true;
    const framer = new BenchFramer(
      {
        dlt645: (frame) => {
          this.bench.dlt645Frames++;
          if (this.meter.speaksModbus) {
            this.bench.wrongProtocol++;
            return;
          }
          const reply = this.meter.answerDlt645(frame);
          if (reply && open) write(reply);
        },
        rtu: (frame) => {
          if (!this.meter.speaksModbus) {
            this.bench.wrongProtocol++;
            return;
          }
          void this.submit(frame).then((reply) => reply && open && write(reply));
        },
        dropped: (n) => void (this.bench.droppedBytes += n),
      },
      this.benchOptions.staleMs,
    );
    return {
      receive: (chunk) => framer.push(chunk),
      close: () => {
        open = false;
        framer.close();
      },
    };
  }
}
