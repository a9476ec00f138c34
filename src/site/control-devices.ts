import type { SiteConfig } from '../config/site-config.js';
import { splitSubComponents } from '../drivers/point-codec.js';
import { DEFAULT_SCALING } from '../drivers/point-codec.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { loadDeviceProfiles } from '../drivers/profiles.js';
import type { DeviceReading, PolledDevice } from '../modbus/poller.js';
import type { SunSpecDeviceConfig } from '../sunspec/sunspec-config.js';

/**
 * The devices the edge cycle steers (the site file's `control.devices`): an ESS with its PV, a
 * generator, the grid meter on the inverter's line. They are polled every control period (1 s), not
 * every site poll (10 s), on their own bus; a device's sub-components (a hybrid's `pv/ActivePower`)
 * go to their own component in the process image (`pv0/ActivePower`). They are not recorded yet:
 * one reading a second is not for the SD card (a decimated history is future work).
 */
export interface ControlDevice {
  readonly component: string;
  readonly bus: string;
  readonly profile: DeviceProfile;
  readonly address: number;
  readonly polled: PolledDevice;
  /** Sub-component kind -> component name ('' -> the device's own component). */
  readonly components: ReadonlyMap<string, string>;
}

export interface ControlDevices {
  readonly devices: readonly ControlDevice[];
  readonly byKey: ReadonlyMap<string, ControlDevice>;
  /** The poll interval of a bus: the control period when it carries control devices. */
  busIntervalMs(bus: string): number | undefined;
  /** A failed poll's channels by the component they belong to. */
  failedChannels(key: string, channels: readonly string[]): Map<string, string[]>;
}

export function controlDevicesOf(config: SiteConfig, meterProfiles: ReadonlyMap<string, DeviceProfile>): ControlDevices {
  const list = (config.control?.enabled === false ? [] : (config.control?.devices ?? [])).flatMap((d) => ('profile' in d ? [d] : []));
  let all: ReadonlyMap<string, DeviceProfile> = meterProfiles;
  if (list.length) all = new Map([...loadDeviceProfiles(), ...meterProfiles]);
  const devices: ControlDevice[] = list.map((d) => {
    const profile = all.get(d.profile.toUpperCase());
    if (!profile) throw new Error(`control.devices: no profile "${d.profile}" for ${d.component}; loaded: ${[...all.keys()].join(', ')}`);
    if (!config.buses.some((b) => b.id === d.bus))
      throw new Error(
        `control.devices: ${d.component} is on bus "${d.bus}", which is not defined; allowed: ${config.buses.map((b) => b.id).join(', ') || '(none)'}`,
      );
    const components = new Map<string, string>([['', d.component]]);
    for (const [kind, name] of Object.entries(d.subComponents)) components.set(kind, name);
    const polled: PolledDevice = {
      key: d.component,
      address: d.address,
      profile,
      functionCode: profile.functionCode,
      scaling: { ...DEFAULT_SCALING, wordOrder: profile.wordOrder },
    };
    return { component: d.component, bus: d.bus, profile, address: d.address, polled, components };
  });
  const byKey = new Map(devices.map((d) => [d.component, d]));
  const buses = new Set(devices.map((d) => d.bus));
  for (const d of sunspecDevicesOf(config)) buses.add(d.bus);
  const period = config.control?.periodMs ?? 1000;
  // Read once a period (at least 1 s) unless control.pollMs asks for faster reads (the step trigger's).
  const interval = config.control?.pollMs ?? Math.max(1000, period);
  return {
    devices,
    byKey,
    busIntervalMs: (bus) => (buses.has(bus) ? interval : undefined),
    failedChannels: (key, channels) => {
      const d = byKey.get(key);
      const out = new Map<string, string[]>();
      for (const q of channels) {
        const slash = q.indexOf('/');
        const kind = slash < 0 ? '' : q.slice(0, slash);
        const comp = d ? componentOf(d, kind) : key;
        out.set(comp, [...(out.get(comp) ?? []), slash < 0 ? q : q.slice(slash + 1)]);
      }
      if (d && out.size === 0) out.set(d.component, []);
      return out;
    },
  };
}

const componentOf = (d: ControlDevice, kind: string): string => d.components.get(kind) ?? `${d.component}_${kind}`;

/** Splits a reading into its components. */
export function routeReading(c: ControlDevices, r: DeviceReading): Array<{ component: string; values: Record<string, number>; periodMs: number }> {
  const d = c.byKey.get(r.key);
  if (!d) return [];
  const parts: Array<{ component: string; values: Record<string, number>; periodMs: number }> = [];
  for (const [kind, values] of splitSubComponents(r.values)) {
    const first = Object.keys(values)[0];
    const period = first === undefined ? 1000 : (r.periodMs[kind ? `${kind}/${first}` : first] ?? 1000);
    parts.push({ component: componentOf(d, kind), values, periodMs: period });
  }
  return parts;
}

/** The SunSpec devices of `control.devices` (read by the site's SunSpec poller, not the profile poller). */
export function sunspecDevicesOf(config: SiteConfig): SunSpecDeviceConfig[] {
  if (config.control?.enabled === false) return [];
  return (config.control?.devices ?? []).flatMap((d) => ('type' in d ? [d] : []));
}
