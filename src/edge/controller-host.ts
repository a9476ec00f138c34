import { Worker } from 'node:worker_threads';
import type { ChannelValue } from '../channels/value.js';
import type { RunItem, RunResult, WorkerMessage } from './control-worker.js';

/**
 * The cycle's side of the control worker. `run` posts one cycle's work and waits at most the budget.
 * When the budget runs out, the SharedArrayBuffer says which controller is running; the worker is
 * terminated (a busy loop cannot be interrupted any other way in JavaScript), that controller is
 * reported as `hung`, and the next cycle starts a fresh worker. Controllers that finished before it
 * in the same cycle lost their answers with the worker: they are reported as `lost`.
 */
export type HostOutcome =
  | { readonly kind: 'done'; readonly results: readonly RunResult[] }
  | { readonly kind: 'hung'; readonly id: string; readonly afterMs: number }
  | { readonly kind: 'not-ready'; readonly why: string };

export class ControllerHost {
  private worker: Worker | null = null;
  private ready = false;
  private initFailed: string | null = null;
  private seq = 0;
  private readonly sab = new SharedArrayBuffer(8);
  private readonly where = new Int32Array(this.sab);
  private pending: { seq: number; resolve: (r: HostOutcome) => void } | null = null;
  /** Workers started (the first and every restart). */
  starts = 0;

  constructor(
    private readonly modules: readonly string[] = [],
    private readonly budgetMs = 100,
  ) {}

  private spawn(): void {
    this.ready = false;
    this.initFailed = null;
    Atomics.store(this.where, 0, 0);
    const w = new Worker(new URL('./control-worker.js', import.meta.url), { workerData: { sab: this.sab, modules: this.modules } });
    this.starts++;
    w.unref();
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') this.ready = true;
      else if (m.type === 'init-failed') this.initFailed = m.why;
      else if (this.pending && m.seq === this.pending.seq) {
        const p = this.pending;
        this.pending = null;
        p.resolve({ kind: 'done', results: m.results });
      }
    });
    w.on('error', (e) => {
      this.initFailed = e.message;
      if (this.worker === w) this.worker = null;
    });
    this.worker = w;
  }

  /** Starts the worker ahead of the first cycle (module loading takes tens of ms). */
  warm(): void {
    if (!this.worker) this.spawn();
  }

  async run(nowMs: number, takenAt: number, channels: ReadonlyArray<readonly [string, ChannelValue]>, items: readonly RunItem[]): Promise<HostOutcome> {
    if (!this.worker) this.spawn();
    if (this.initFailed) return { kind: 'not-ready', why: `control worker failed to start: ${this.initFailed}` };
    if (!this.ready) return { kind: 'not-ready', why: 'control worker starting' };
    const w = this.worker;
    if (!w) return { kind: 'not-ready', why: 'control worker starting' };
    const seq = ++this.seq;
    const t0 = performance.now();
    const answer = new Promise<HostOutcome>((resolve) => {
      this.pending = { seq, resolve };
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.budgetMs);
    });
    w.postMessage({ type: 'run', seq, nowMs, takenAt, channels, items });
    const r = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    if (r !== 'timeout') return r;
    // Past the budget: who is running?
    const at = Atomics.load(this.where, 0);
    const id = items[at - 1]?.id ?? items[0]?.id ?? '?';
    this.pending = null;
    this.worker = null;
    void w.terminate();
    this.spawn();
    return { kind: 'hung', id, afterMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
