import { systemClock } from '../../util/clock.js';
/**
 * The converter's step log: what converter.exe shows in its log panel ("[1/2] Converting protocol",
 * "✓ Address set to 10."), as records a CLI, the API and an audit trail can all use.
 */
export type StepId = 'plan' | 'identify' | 'protocol-switch' | 'modbus-probe' | 'set-address' | 'verify';

export interface StepRecord {
  readonly id: StepId;
  readonly title: string;
  readonly status: 'running' | 'ok' | 'failed';
  /** ISO 8601 times. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly detail: string;
}

export type ConverterEvent =
  | { readonly type: 'step-started'; readonly step: StepRecord }
  | { readonly type: 'step-finished'; readonly step: StepRecord }
  /** The operator must do something on the meter, then confirm. */
  | { readonly type: 'operator-action'; readonly step: StepId; readonly instructions: readonly string[] };

export type ConverterListener = (event: ConverterEvent) => void;

/** A failed step: the procedure stops here. */
export class StepFailure extends Error {
  override name = 'StepFailure';
  constructor(
    readonly step: StepId,
    message: string,
  ) {
    super(message);
  }
}

export class StepLog {
  private readonly records: StepRecord[] = [];
  private readonly listeners = new Set<ConverterListener>();

  constructor(private readonly clock: () => number = systemClock) {}

  on(listener: ConverterListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ConverterEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a broken listener (a closed HTTP stream, ...) must not stop the procedure
      }
    }
  }

  steps(): readonly StepRecord[] {
    return [...this.records];
  }

  /** Runs one step: logs its start, then ok with `describe(result)` or failed with the error's message. */
  async run<T>(id: StepId, title: string, fn: () => T | Promise<T>, describe: (result: T) => string): Promise<T> {
    const started = this.clock();
    const index = this.records.push({ id, title, status: 'running', startedAt: new Date(started).toISOString(), detail: '' }) - 1;
    this.emit({ type: 'step-started', step: this.records[index] as StepRecord });
    const finish = (status: 'ok' | 'failed', detail: string): StepRecord => {
      const now = this.clock();
      const record: StepRecord = {
        id,
        title,
        status,
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date(now).toISOString(),
        durationMs: now - started,
        detail,
      };
      this.records[index] = record;
      this.emit({ type: 'step-finished', step: record });
      return record;
    };
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      finish('failed', message);
      throw new StepFailure(id, message);
    }
    finish('ok', describe(result));
    return result;
  }
}
