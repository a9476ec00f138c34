/** Test-only controller kinds for the control worker (loaded through ControlTestHooks.modules). */
export const controllers = {
  'test-throw': {
    run: () => {
      throw new Error('boom: a bug in a controller');
    },
    start: {},
    criticality: 'optimisation',
  },
  'test-loop': {
    run: () => {
      // A controller stuck in a loop: only terminating its thread stops it.
      for (;;) {
        /* spin */
      }
    },
    start: {},
    criticality: 'optimisation',
  },
  'test-late-until': {
    // Late (300 ms of work) in every cycle before `lateUntilMs`, as on a CPU busy with other work; then quick.
    run: (_s: unknown, cfg: { lateUntilMs?: number }, st: unknown, nowMs: number) => {
      if (nowMs < (cfg.lateUntilMs ?? 0)) {
        const until = performance.now() + 300;
        while (performance.now() < until) {
          /* busy */
        }
      }
      return { proposals: [], state: st, status: { state: 'ok', detail: 'on time' } };
    },
    start: {},
    criticality: 'optimisation',
  },
};
