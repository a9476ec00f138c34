import { z } from '#zod';
import type { SimulatorHandle } from './simulator.js';
import { HttpError, type RouteRegistry } from '../api/route.js';

/** PV available on one phase in a simulated step (W): up to 100 kW, far above any simulated array. */
const PV_W = z.number().min(0).max(100_000);

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
    summary:
      "Simulator only: fail or restore the grid, cut the inverter's or the grid meter's comms, press or release the e-stop, start or stop the generator, step the PV available per phase (or give it back to the sun)",
    role: 'installer',
    body: z
      .object({
        grid: z.enum(['up', 'down']).optional(),
        inverterComms: z.enum(['ok', 'lost']).optional(),
        gridMeterComms: z.enum(['ok', 'lost']).optional(),
        emergencyStop: z.boolean().optional(),
        generator: z.enum(['run', 'stop']).optional(),
        // A step of the PV available on each phase (W, missing phases 0), or "sun" for the daily profile and clouds again.
        pv: z
          .union([
            z.literal('sun'),
            z
              .object({ L1: PV_W, L2: PV_W, L3: PV_W })
              .partial()
              .strict()
              .refine((o) => Object.keys(o).length > 0, 'give the PV available (W) of at least one phase: L1, L2 or L3'),
          ])
          .optional(),
      })
      .strict(),
    handler: ({ body }) => {
      const e = sim.energy;
      if (!e) throw new HttpError(404, 'the simulated site has no inverter; set sim.energy in the site file');
      if (body.grid) e.setGridConnected(body.grid === 'up');
      if (body.inverterComms) e.setInverterComms(body.inverterComms === 'ok');
      if (body.gridMeterComms) e.setGridMeterComms(body.gridMeterComms === 'ok');
      if (body.emergencyStop !== undefined) e.setEmergencyStop(body.emergencyStop);
      if (body.generator) e.setGeneratorRunning(body.generator === 'run');
      if (body.pv !== undefined) e.setPvAvailable(body.pv === 'sun' ? null : { L1: body.pv.L1 ?? 0, L2: body.pv.L2 ?? 0, L3: body.pv.L3 ?? 0 });
      const o = e.system.pvOverrideW;
      return {
        gridConnected: e.system.gridConnected,
        emergencyStop: e.system.emergencyStop,
        pvAvailableW: o ? { L1: o.L1 ?? 0, L2: o.L2 ?? 0, L3: o.L3 ?? 0 } : 'sun',
      };
    },
  });
}
