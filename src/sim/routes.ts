import { z } from '#zod';
import type { SimulatorHandle } from './simulator.js';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { MAX_HZ, MIN_HZ } from './grid-frequency.js';

/** PV available on one phase in a simulated step (W): up to 100 kW, far above any simulated array. */
const PV_W = z.number().min(0).max(100_000);
const hz = (field: string): z.ZodNumber =>
  z
    .number()
    .min(MIN_HZ, `${field} must be at least ${MIN_HZ} Hz; give a frequency between ${MIN_HZ} and ${MAX_HZ} Hz (50 is nominal)`)
    .max(MAX_HZ, `${field} must be at most ${MAX_HZ} Hz; give a frequency between ${MIN_HZ} and ${MAX_HZ} Hz (50 is nominal)`);
/** A scripted excursion: seconds after now and the frequency then, linear in between, the last value held. */
const EXCURSION = z
  .array(z.object({ afterS: z.number().min(0).max(86_400), hz: hz('frequencyExcursion[].hz') }).strict())
  .min(1, 'give frequencyExcursion at least one point { afterS, hz }')
  .max(100, 'frequencyExcursion takes at most 100 points')
  .refine((pts) => pts.every((p, i) => i === 0 || p.afterS > (pts[i - 1]?.afterS ?? -1)), 'frequencyExcursion points must be in increasing afterS');

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
      "Simulator only: fail or restore the grid, cut the inverter's or the grid meter's comms, press or release the e-stop, start or stop the generator, step the PV available per phase (or give it back to the sun), set the grid frequency (45-55 Hz) or play a scripted excursion, set the island's frequency",
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
        // The utility's frequency as both grid meters serve it (Hz); it replaces a running excursion.
        frequencyHz: hz('frequencyHz').optional(),
        frequencyExcursion: EXCURSION.optional(),
        // What the grid-forming inverter makes while islanded (nominal 50 Hz unless set).
        islandFrequencyHz: hz('islandFrequencyHz').optional(),
      })
      .strict()
      .refine((b) => b.frequencyHz === undefined || b.frequencyExcursion === undefined, {
        error: 'give frequencyHz or frequencyExcursion, not both',
        path: ['frequencyExcursion'],
      }),
    handler: ({ body }) => {
      const e = sim.energy;
      if (!e) throw new HttpError(404, 'the simulated site has no inverter; set sim.energy in the site file');
      if (body.grid) e.setGridConnected(body.grid === 'up');
      if (body.inverterComms) e.setInverterComms(body.inverterComms === 'ok');
      if (body.gridMeterComms) e.setGridMeterComms(body.gridMeterComms === 'ok');
      if (body.emergencyStop !== undefined) e.setEmergencyStop(body.emergencyStop);
      if (body.generator) e.setGeneratorRunning(body.generator === 'run');
      if (body.pv !== undefined) e.setPvAvailable(body.pv === 'sun' ? null : { L1: body.pv.L1 ?? 0, L2: body.pv.L2 ?? 0, L3: body.pv.L3 ?? 0 });
      if (body.frequencyHz !== undefined) e.setGridFrequency(body.frequencyHz);
      if (body.frequencyExcursion) e.setFrequencyExcursion(body.frequencyExcursion.map((p) => ({ afterMs: p.afterS * 1000, hz: p.hz })));
      if (body.islandFrequencyHz !== undefined) e.setIslandFrequency(body.islandFrequencyHz);
      const o = e.system.pvOverrideW;
      return {
        gridConnected: e.system.gridConnected,
        emergencyStop: e.system.emergencyStop,
        pvAvailableW: o ? { L1: o.L1 ?? 0, L2: o.L2 ?? 0, L3: o.L3 ?? 0 } : 'sun',
        frequencyHz: Math.round(sim.model.frequencyHz * 1000) / 1000,
      };
    },
  });
}
