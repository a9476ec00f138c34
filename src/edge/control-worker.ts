import { parentPort, workerData } from 'node:worker_threads';
import type { ChannelValue } from '../channels/value.js';
import { CONTROLLER_KINDS, type ControllerKindDef } from './controller-registry.js';
import type { ControllerStatus, Proposal } from './proposal.js';
import type { Snapshot } from './snapshot.js';

/**
 * The controller pipeline's thread (DESIGN.md "Real time apart from requests"; issue 10 item 1).
 * The cycle posts one snapshot and the controllers' configs and states; this thread runs them one
 * after another and answers with their proposals, states and statuses. Before each controller it
 * writes the controller's position into a SharedArrayBuffer, so the cycle can tell, without a
 * message, which controller is running when the budget runs out; it then terminates this thread.
 * A controller that throws is caught here and reported failed with the reason.
 */
export interface WorkerInit {
  /** Int32 [0] = 1 + index of the controller running now (0 = none), [1] = the cycle's sequence number. */
  readonly sab: SharedArrayBuffer;
  /** Test hooks: modules (file URLs) exporting `controllers: Record<kind, ControllerKindDef>`. */
  readonly modules: readonly string[];
}

export interface RunItem {
  readonly id: string;
  readonly kind: string;
  readonly config: unknown;
  readonly state: unknown;
}

export interface RunRequest {
  readonly type: 'run';
  readonly seq: number;
  readonly nowMs: number;
  readonly takenAt: number;
  readonly channels: ReadonlyArray<readonly [string, ChannelValue]>;
  readonly items: readonly RunItem[];
}

export interface RunResult {
  readonly id: string;
  readonly proposals: readonly Proposal[];
  readonly state: unknown;
  readonly status: ControllerStatus;
  /** How long it ran (ms). */
  readonly ms: number;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly seq: number; readonly results: readonly RunResult[] }
  | { readonly type: 'init-failed'; readonly why: string };

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort;
  if (!port) return;
  const where = new Int32Array(init.sab);
  const kinds = new Map<string, ControllerKindDef>(Object.entries(CONTROLLER_KINDS));
  try {
    for (const m of init.modules) {
      const mod = (await import(m)) as { controllers?: Record<string, ControllerKindDef> };
      for (const [k, v] of Object.entries(mod.controllers ?? {})) kinds.set(k, v);
    }
  } catch (e) {
    port.postMessage({ type: 'init-failed', why: e instanceof Error ? e.message : String(e) } satisfies WorkerMessage);
    return;
  }
  port.on('message', (req: RunRequest) => {
    const snapshot: Snapshot = { takenAt: req.takenAt, channels: new Map(req.channels) };
    Atomics.store(where, 1, req.seq);
    const results: RunResult[] = [];
    req.items.forEach((item, i) => {
      Atomics.store(where, 0, i + 1);
      const t0 = performance.now();
      const def = kinds.get(item.kind);
      try {
        if (!def) throw new Error(`unknown controller kind "${item.kind}"`);
        const r = def.run(snapshot, item.config, item.state, req.nowMs);
        results.push({ id: item.id, proposals: r.proposals, state: r.state, status: r.status, ms: performance.now() - t0 });
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        results.push({
          id: item.id,
          proposals: [],
          state: item.state,
          status: { state: 'failed', reason: `threw: ${why}; its assets are in their safe state` },
          ms: performance.now() - t0,
        });
      }
    });
    Atomics.store(where, 0, 0);
    port.postMessage({ type: 'done', seq: req.seq, results } satisfies WorkerMessage);
  });
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
}

void main();
