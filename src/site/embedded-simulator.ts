import type { Logger } from 'pino';
import { systemClock } from '../util/clock.js';
import type { SiteConfig } from '../config/site-config.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import type { Recorder } from '../recorder/recorder.js';
import { hasReadings, recordSimulatedHistory } from '../recorder/simulated-history.js';
import { simulatedMeterConfigs, startSimulator, type SimulatorHandle } from '../sim/simulator.js';
import { counterReading } from '../store/counter-reading.js';
import { meterIdOf } from '../store/registry.js';
import { meterKey } from './devices.js';
import { simulatedEnergyOptions } from '../sim/energy-config.js';

/** When the simulator runs in-process, its bus and (if none are listed) its meters join the site. */
function attach(config: SiteConfig, sim: SimulatorHandle): SiteConfig {
  const buses =
    config.buses.length > 0
      ? config.buses
      : [
          {
            id: 'sim',
            transport: 'rtu-over-tcp' as const,
            host: sim.host,
            port: sim.rtuTcpPort,
            baudRate: config.sim?.lineSpeedBaud || 9600,
            stopBits: 2 as const,
            parity: 'none' as const,
            timeoutMs: 1000,
            retries: 1,
          },
          // The inverter's own line (Modbus TCP), polled every control period by the edge cycle's devices.
          ...(sim.energy
            ? [
                {
                  id: 'energy',
                  transport: 'tcp' as const,
                  host: sim.host,
                  port: sim.energy.mbapPort,
                  baudRate: 9600,
                  stopBits: 1 as const,
                  parity: 'none' as const,
                  timeoutMs: 300,
                  retries: 0,
                },
              ]
            : []),
        ];
  if (config.meters.length > 0) return { ...config, buses };
  const meters = simulatedMeterConfigs(config.sim?.customers).map((m) => ({ ...m, enabled: true, ctRatio: 1, ptRatio: 1, invert: false }));
  // Simulated customers with rooftop PV export by design: no reverse-energy alarm for them.
  const exporting = sim.model.customers.filter((c) => c.hasPv).map((c) => c.id);
  return { ...config, buses, meters, alarms: { ...config.alarms, exportingMeters: [...new Set([...config.alarms.exportingMeters, ...exporting])] } };
}

/** After a restart the simulated meters go on from their stored counters, as real meters would. */
function continueCounters(sim: SimulatorHandle, config: SiteConfig, recorder: Recorder, nowMs: number): void {
  for (const m of config.meters) {
    const id = meterIdOf(recorder.db, meterKey(m));
    if (id === undefined || !sim.meters.has(m.address ?? m.id)) continue;
    const imp = counterReading(recorder.db, id, 'EnergyImport', nowMs);
    const exp = counterReading(recorder.db, id, 'EnergyExport', nowMs);
    sim.model.restoreCounters(m.address ?? m.id, { importKwh: imp?.value, exportKwh: exp?.value });
  }
}

/**
 * Starts the configured simulator (demo, tests) and returns the site configuration with it attached.
 * On a first start with an empty database it records the configured days of simulated history.
 */
export async function startEmbeddedSimulator(
  config: SiteConfig,
  d: { recorder: Recorder; profiles: ReadonlyMap<string, DeviceProfile>; log: Logger; clock?: () => number; backfill?: boolean },
): Promise<{ sim: SimulatorHandle; config: SiteConfig }> {
  const s = config.sim;
  if (!s?.enabled) throw new Error('sim: the simulator is not enabled in this configuration');
  const now = (d.clock ?? systemClock)();
  // No backfill into a store held in memory (a full disk): it would crowd out the live readings.
  if (s.backfillDays > 0 && d.backfill === false) d.log.warn('simulated history skipped: the store is in memory (the data disk is full)');
  const backfillMs = s.backfillDays > 0 && d.backfill !== false && !hasReadings(d.recorder.db) ? s.backfillDays * 86_400_000 : 0;
  const sim = await startSimulator({
    seed: s.seed,
    customers: s.customers,
    host: s.host,
    port: s.port,
    utcOffsetHours: 3,
    clock: d.clock,
    startMs: backfillMs > 0 ? now - backfillMs : undefined,
    serialPaths: s.serialPaths,
    lineSpeed: s.lineSpeedBaud > 0 ? { baudRate: s.lineSpeedBaud, parity: 'none', stopBits: 2, turnaroundMs: s.turnaroundMs } : false,
    ...(s.energy ? { energy: simulatedEnergyOptions(s.energy) } : {}),
  });
  const attached = attach(config, sim);
  if (backfillMs === 0) continueCounters(sim, attached, d.recorder, now);
  d.log.info({ port: sim.rtuTcpPort, meters: sim.meters.size }, 'simulated mini-grid serving RTU over TCP');
  if (backfillMs > 0) {
    try {
      const n = recordSimulatedHistory(sim, attached, d.profiles, d.recorder, now);
      d.log.info({ readings: n, days: s.backfillDays }, 'first start: recorded simulated history');
    } catch (e) {
      await sim.close();
      throw e;
    }
  }
  return { sim, config: attached };
}
