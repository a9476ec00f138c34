import { recordName, senmlValue, type EnergyUnit } from './names.js';

/**
 * Home Assistant MQTT discovery (docs/uplink.md): one retained config message per channel of each
 * component, under `<discovery prefix>/sensor/<node>/<object>/config`, so Home Assistant builds a device
 * per meter with its sensors and reads their values straight from the SenML packs on the telemetry
 * topic. Pure: which messages a component's channels give.
 */

export interface DiscoveryOptions {
  readonly siteId: string;
  readonly topicPrefix: string;
  readonly discoveryPrefix: string;
  readonly names: 'obis' | 'channel';
  readonly energyUnit: EnergyUnit;
  /** Telemetry period: a sensor not refreshed in three periods shows as unavailable. */
  readonly periodMs: number;
}

export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: string;
}

interface SensorKind {
  readonly deviceClass?: string;
  readonly unit?: string;
  readonly stateClass: 'measurement' | 'total_increasing';
}

/** Home Assistant's device class, unit and state class for each SenML unit we send; others are not announced. */
const KINDS: Readonly<Record<string, SensorKind>> = {
  W: { deviceClass: 'power', unit: 'W', stateClass: 'measurement' },
  var: { deviceClass: 'reactive_power', unit: 'var', stateClass: 'measurement' },
  VA: { deviceClass: 'apparent_power', unit: 'VA', stateClass: 'measurement' },
  V: { deviceClass: 'voltage', unit: 'V', stateClass: 'measurement' },
  A: { deviceClass: 'current', unit: 'A', stateClass: 'measurement' },
  Hz: { deviceClass: 'frequency', unit: 'Hz', stateClass: 'measurement' },
  '/': { deviceClass: 'power_factor', stateClass: 'measurement' },
  '%EL': { deviceClass: 'battery', unit: '%', stateClass: 'measurement' },
  '%': { unit: '%', stateClass: 'measurement' },
  Cel: { deviceClass: 'temperature', unit: '°C', stateClass: 'measurement' },
  // Meter registers only count up (a meter exchange starts a new series: Home Assistant handles the reset).
  kWh: { deviceClass: 'energy', unit: 'kWh', stateClass: 'total_increasing' },
  Wh: { deviceClass: 'energy', unit: 'Wh', stateClass: 'total_increasing' },
  J: { deviceClass: 'energy', unit: 'J', stateClass: 'total_increasing' },
  kvarh: { deviceClass: 'reactive_energy', unit: 'kvarh', stateClass: 'total_increasing' },
  varh: { deviceClass: 'reactive_energy', unit: 'varh', stateClass: 'total_increasing' },
};

/** Node and object ids allow [a-zA-Z0-9_-] only. */
const id = (s: string): string => s.replace(/[^a-zA-Z0-9_-]/g, '_');

/** ActivePower_L1 → "Active power L1". */
const label = (channel: string): string =>
  channel
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/ ([A-Z])([a-z])/g, (_, a: string, b: string) => ` ${a.toLowerCase()}${b}`);

export function discoveryMessages(o: DiscoveryOptions, component: string, channels: readonly string[]): DiscoveryMessage[] {
  const node = id(`mgos_${o.siteId}_${component}`);
  return channels.flatMap((channel) => {
    const { unit } = senmlValue(channel, 0, o.energyUnit);
    const kind = unit === undefined ? undefined : KINDS[unit];
    if (!kind) return [];
    // Record names are [A-Za-z0-9:./_-] (SenML validation): safe inside a quoted template string.
    const name = recordName(channel, o.names === 'obis');
    const config = {
      name: label(channel),
      unique_id: `${node}_${id(channel)}`,
      ...(kind.deviceClass ? { device_class: kind.deviceClass } : {}),
      ...(kind.unit ? { unit_of_measurement: kind.unit } : {}),
      state_class: kind.stateClass,
      state_topic: `${o.topicPrefix}/${o.siteId}/${component}`,
      // A change-based pack carries only what changed: the sensor keeps its state when its record is absent.
      value_template: `{% for r in value_json if r.n == '${name}' %}{{ r.v }}{% endfor %}`,
      availability_topic: `${o.topicPrefix}/${o.siteId}/status`,
      payload_available: 'online',
      payload_not_available: 'offline',
      expire_after: Math.ceil((3 * o.periodMs) / 1000),
      device: {
        identifiers: [node],
        name: `${o.siteId} ${component}`,
        manufacturer: 'Microgrid OS',
        via_device: id(`mgos_${o.siteId}`),
      },
    };
    return [{ topic: `${o.discoveryPrefix}/sensor/${node}/${id(channel)}/config`, payload: JSON.stringify(config) }];
  });
}

/**
 * Announces each component's sensors once per connection (retained, so Home Assistant finds them after
 * its own restart): the components seen so far on connecting, and a new component or channel as soon as
 * telemetry carries it (meters added while running).
 */
export class DiscoveryAnnouncer {
  private readonly seen = new Map<string, Set<string>>();
  private publish: ((m: DiscoveryMessage) => void) | null = null;

  constructor(private readonly o: DiscoveryOptions) {}

  note(component: string, channels: readonly string[]): void {
    let known = this.seen.get(component);
    if (!known) this.seen.set(component, (known = new Set()));
    const fresh = channels.filter((c) => !known.has(c));
    if (fresh.length === 0) return;
    for (const c of fresh) known.add(c);
    if (this.publish) for (const m of discoveryMessages(this.o, component, fresh)) this.publish(m);
  }

  connected(publish: (m: DiscoveryMessage) => void): void {
    this.publish = publish;
    for (const [component, channels] of this.seen) for (const m of discoveryMessages(this.o, component, [...channels])) publish(m);
  }

  disconnected(): void {
    this.publish = null;
  }
}
