import { EventEmitter } from 'node:events';
import type { CycleReport } from '../modbus/poller.js';

/** What the live stream tells browsers after each poll cycle. */
export interface CycleEvent {
  readonly report: CycleReport;
  /** Components whose values changed in this cycle. */
  readonly changed: readonly string[];
}

/** A tiny typed event hub between the pollers and the HTTP live stream. */
export class LiveFeed {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every open browser tab is one listener; a site has a handful, not thousands.
    this.emitter.setMaxListeners(200);
  }

  publish(e: CycleEvent): void {
    this.emitter.emit('cycle', e);
  }

  subscribe(listener: (e: CycleEvent) => void): () => void {
    this.emitter.on('cycle', listener);
    return () => this.emitter.off('cycle', listener);
  }
}
