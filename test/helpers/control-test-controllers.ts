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
};
