import { z } from 'zod';
import type { SimulatorHandle } from './simulator.js';
import { HttpError, type RouteRegistry } from '../api/route.js';

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
  routes.add({
    method: 'POST',
    url: '/api/sim/energy/fault',
    summary: 'Simulator only: fail or restore the grid, cut the inverter\'s comms, press or release the e-stop, start or stop the generator',
    role: 'installer',
    body: z.object({ grid: z.enum(['up', 'down']).optional(), inverterComms: z.enum(['ok', 'lost']).optional(), emergencyStop: z.boolean().optional(), generator: z.enum(['run', 'stop']).optional() }).strict(),
    handler: ({ body }) => {
      const e = sim.energy;
      if (!e) throw new HttpError(404, 'the simulated site has no inverter; set sim.energy in the site file');
      if (body.grid) e.setGridConnected(body.grid === 'up');
      if (body.inverterComms) e.setInverterComms(body.inverterComms === 'ok');
      if (body.emergencyStop !== undefined) e.setEmergencyStop(body.emergencyStop);
      if (body.generator) e.setGeneratorRunning(body.generator === 'run');
      return { gridConnected: e.system.gridConnected, emergencyStop: e.system.emergencyStop };
    },
  });
}
