import type { Logger } from 'pino';
import type { SiteConfig } from '../config/site-config.js';
import { RelayBank } from '../relays/relay-bank.js';
import { RelayDriver, type RelayFault } from '../relays/relay-driver.js';
import { RelayWriteGuard, type RelayGuardOptions } from '../relays/relay-guard.js';
import { RELAY_MODELS } from '../relays/relay-models.js';
import { addRelayModule, type SimulatedRelayModule } from '../sim/relay-module.js';
import type { SimulatorHandle } from '../sim/simulator.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';

export interface RelayRuntimeDeps {
  readonly db: StoreDb;
  readonly config: SiteConfig;
  readonly site: SiteRuntime;
  readonly sim: SimulatorHandle | null;
  /** The embedded demo: simulated relays are added even when sim.relays is not set. */
  readonly demo: boolean;
  readonly log: Logger;
  readonly relaySafety?: Omit<RelayGuardOptions, 'timeZone'>;
  readonly onRelayFault?: (f: RelayFault) => void;
}

export interface RelayRuntime {
  readonly relays: RelayBank;
  /** Simulated relay modules put on the simulator's bus (empty without a simulator). */
  readonly simRelays: readonly SimulatedRelayModule[];
}

const SIM_RELAY_FIRST_ADDRESS = 200;

/** Customer meters of the simulator, 8 per relay module (NC wiring: a dead module disconnects nobody). */
function simulatedRelays(sim: SimulatorHandle, config: SiteConfig): { modules: SimulatedRelayModule[]; relays: NonNullable<SiteConfig['relays']> } {
  const bus = config.buses[0]?.id;
  const inSite = new Set(config.meters.filter((m) => m.role === 'customer').map((m) => m.id));
  const ids = sim.model.customers
    .map((c) => c.id)
    .filter((id) => inSite.has(id))
    .sort((a, b) => a - b);
  const modules: SimulatedRelayModule[] = [];
  const relays: NonNullable<SiteConfig['relays']> = [];
  if (!bus) return { modules, relays };
  for (let i = 0; i * 8 < ids.length; i++) {
    const group = ids.slice(i * 8, i * 8 + 8);
    const address = SIM_RELAY_FIRST_ADDRESS + i;
    modules.push(addRelayModule(sim, { address, wiredTo: group, channels: 8, wiring: 'nc' }));
    relays.push({ bus, address, model: 'waveshare-8ch-nc', channels: group.map((meter, ch) => ({ channel: ch + 1, meter })) });
  }
  return { modules, relays };
}

/** The relay bank: configured modules, plus simulated ones on the simulator's bus; every write passes the wear guard. */
export function createRelayRuntime(d: RelayRuntimeDeps): RelayRuntime {
  const { config, log } = d;
  const simRelays = d.sim && (config.sim?.relays === true || d.demo) ? simulatedRelays(d.sim, config) : { modules: [], relays: [] };
  const relays = new RelayBank();
  const relayGuard = new RelayWriteGuard(d.db, { ...d.relaySafety, timeZone: config.site.timezone });
  const onFault = (f: RelayFault): void => {
    log.error({ relay: f.module, channel: f.channel, kind: f.kind, exceptionCode: f.exceptionCode }, f.message);
    d.onRelayFault?.(f);
  };
  for (const r of [...(config.relays ?? []), ...simRelays.relays]) {
    const bus = d.site.bus(r.bus);
    if (!bus) throw new Error(`relays: no bus "${r.bus}" is defined`);
    const driver = new RelayDriver(bus, r.address, RELAY_MODELS[r.model], { guard: relayGuard, onFault, name: `${r.bus}/${r.address}` });
    for (const ch of r.channels) relays.wire(ch.meter, { driver, channel: ch.channel });
  }
  return { relays, simRelays: simRelays.modules };
}
