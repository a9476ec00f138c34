import { z } from 'zod';
import type { SimulatorHandle } from '../sim/simulator.js';
import { HttpError, type RouteRegistry } from './route.js';

/** Only when the simulator runs in-process (demo, tests): make a simulated meter misbehave on demand. */
export function registerSimRoutes(routes: RouteRegistry, sim: SimulatorHandle): void {
  routes.add({
    method: 'POST',
    url: '/api/sim/meters/:address/fault',
    summary: 'Simulator only: make a simulated meter silent, corrupt its replies, or behave again',
    role: 'installer',
    params: z.object({ address: z.coerce.number().int().min(1).max(247) }).strict(),
    body: z.object({ fault: z.enum(['silent', 'corrupt', 'none']) }).strict(),
    handler: ({ params, body }) => {
      if (!sim.slave.deviceAt(params.address)) throw new HttpError(404, `the simulator has no meter at address ${params.address}`);
      if (body.fault === 'silent') sim.slave.silence(params.address);
      else if (body.fault === 'corrupt') sim.slave.corrupt(params.address);
      else sim.slave.restore(params.address);
      return { address: params.address, fault: body.fault };
    },
  });
}
