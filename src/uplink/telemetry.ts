import type { ComponentValues } from '../channels/process-image.js';
import type { Clock } from '../util/clock.js';
import { senmlValue, type EnergyUnit } from './names.js';
import type { NewMessage } from './queue.js';

/** What the publisher reads: the process image and the live feed of the running site. */
export interface TelemetrySource {
  componentNames(): string[];
  component(name: string): ComponentValues;
  /** Calls back after each poll cycle with the components whose values changed. */
  subscribe(listener: (e: { readonly changed: readonly string[] }) => void): () => void;
}

export interface TelemetryOptions {
  readonly periodMs: number;
  readonly changes: boolean;
  /** By SenML unit; a change smaller than this is not published between periods. */
  readonly deadbands: Readonly<Record<string, number>>;
  readonly energyUnit: EnergyUnit;
  readonly clock: Clock;
}

export interface TelemetrySink {
  enqueue(m: NewMessage): void;
  flush(): void;
}

/**
 * Turns the process image into uplink messages: every `periodMs` (aligned to the clock) one message per
 * component with all its GOOD channels, in one queue batch; after each poll cycle, between periods, the
 * channels of changed components that moved beyond their deadband since they were last published.
 */
export class TelemetryPublisher {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Last published value per component and channel. */
  private readonly last = new Map<string, Map<string, number>>();

  constructor(
    private readonly source: TelemetrySource,
    private readonly sink: TelemetrySink,
    private readonly o: TelemetryOptions,
  ) {}

  start(): void {
    if (this.o.changes) this.unsubscribe = this.source.subscribe((e) => this.changed(e.changed));
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** One full period: every component, committed as one batch. */
  periodic(): number {
    let n = 0;
    for (const component of this.source.componentNames()) {
      const m = this.message(component, () => true);
      if (m) {
        this.sink.enqueue(m);
        n++;
      }
    }
    this.sink.flush();
    return n;
  }

  /** Change-based: the channels of these components that moved beyond their deadband. */
  changed(components: readonly string[]): number {
    let n = 0;
    for (const component of components) {
      const last = this.last.get(component);
      const m = this.message(component, (ch, v) => {
        const prev = last?.get(ch);
        if (prev === undefined) return true;
        const band = this.o.deadbands[senmlValue(ch, v, this.o.energyUnit).unit ?? ''] ?? 0;
        return band === 0 ? v !== prev : Math.abs(v - prev) >= band;
      });
      if (m) {
        this.sink.enqueue(m);
        n++;
      }
    }
    return n;
  }

  private message(component: string, include: (channel: string, value: number) => boolean): NewMessage | null {
    const channels: string[] = [];
    const values: number[] = [];
    const times: number[] = [];
    for (const [ch, cv] of Object.entries(this.source.component(component))) {
      if (cv.quality !== 'GOOD' || cv.value === null || !include(ch, cv.value)) continue;
      channels.push(ch);
      values.push(cv.value);
      times.push(cv.ts);
    }
    if (channels.length === 0) return null;
    const last = this.last.get(component) ?? new Map<string, number>();
    this.last.set(component, last);
    channels.forEach((ch, i) => last.set(ch, values[i] ?? NaN));
    const ts = Math.max(...times);
    return times.every((t) => t === ts) ? { component, ts, channels, values } : { component, ts, channels, values, times };
  }

  private schedule(): void {
    const now = this.o.clock();
    const next = Math.ceil((now + 1) / this.o.periodMs) * this.o.periodMs;
    this.timer = setTimeout(() => {
      this.periodic();
      this.schedule();
    }, next - now);
  }
}
