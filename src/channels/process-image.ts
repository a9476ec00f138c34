import { STALE_AFTER_INTERVALS, type ChannelValue, type Quality } from './value.js';
import { systemClock } from '../util/clock.js';

interface Entry {
  value: number | null;
  ts: number;
  failed: boolean;
  /** How often this channel is refreshed; staleness is judged against it. */
  periodMs: number;
}

/** Placeholder channel for a component that failed before it ever delivered a value. */
const COMM = '_comm';

export type ComponentValues = Record<string, ChannelValue>;

/**
 * The latest value of every channel of every component (e.g. meter12/ActivePower). Drivers write;
 * everyone else reads. Quality is judged at read time so that silence turns values STALE by itself.
 */
export class ProcessImage {
  private readonly components = new Map<string, Map<string, Entry>>();

  constructor(private readonly now: () => number = systemClock) {}

  /** Fresh values from a successful read. */
  update(component: string, values: Record<string, number>, ts: number, periodMs: number): void {
    const channels = this.channelsOf(component);
    channels.delete(COMM);
    for (const [name, value] of Object.entries(values)) {
      channels.set(name, { value, ts, failed: false, periodMs });
    }
  }

  /**
   * A communication failure. Only the named channels (the groups that were due in the failed poll)
   * turn ERROR, keeping their last value: a channel's quality follows its own group's last read, so
   * a slow group read fine before the failure stays GOOD (and ages to STALE by itself) instead of
   * staying ERROR until its next read several cycles after the meter answers again.
   * Without names, every known channel turns ERROR.
   */
  markFailed(component: string, ts: number, only?: readonly string[]): void {
    const channels = this.channelsOf(component);
    if (only === undefined) for (const entry of channels.values()) entry.failed = true;
    else {
      for (const name of only) {
        const entry = channels.get(name);
        if (entry) entry.failed = true;
      }
    }
    // A component that never answered still needs to show ERROR.
    if (channels.size === 0) channels.set(COMM, { value: null, ts, failed: true, periodMs: 0 });
  }

  get(component: string, channel: string): ChannelValue | undefined {
    const e = this.components.get(component)?.get(channel);
    return e && channel !== COMM ? this.judge(e) : undefined;
  }

  component(component: string): ComponentValues {
    const out: ComponentValues = {};
    for (const [name, e] of this.components.get(component) ?? []) if (name !== COMM) out[name] = this.judge(e);
    return out;
  }

  /** The worst quality among a component's channels; null when it was never read. */
  quality(component: string): Quality | null {
    const channels = this.components.get(component);
    if (!channels || channels.size === 0) return null;
    let worst: Quality = 'GOOD';
    for (const e of channels.values()) {
      const q = this.judge(e).quality;
      if (q === 'ERROR') return 'ERROR';
      if (q === 'STALE') worst = 'STALE';
    }
    return worst;
  }

  remove(component: string): void {
    this.components.delete(component);
  }

  componentNames(): string[] {
    return [...this.components.keys()];
  }

  private judge(e: Entry): ChannelValue {
    let quality: Quality = 'GOOD';
    if (e.failed) quality = 'ERROR';
    else if (this.now() - e.ts > STALE_AFTER_INTERVALS * e.periodMs) quality = 'STALE';
    return { value: e.value, ts: e.ts, quality };
  }

  private channelsOf(component: string): Map<string, Entry> {
    let c = this.components.get(component);
    if (!c) {
      c = new Map();
      this.components.set(component, c);
    }
    return c;
  }
}
