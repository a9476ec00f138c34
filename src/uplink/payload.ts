import { recordName, senmlValue, type EnergyUnit } from './names.js';
import type { NewMessage } from './queue.js';
import { encodeCbor, encodeJson, SENML_CBOR, SENML_JSON, type SenmlPack, type SenmlRecord } from './senml.js';

export interface PayloadOptions {
  readonly siteId: string;
  readonly topicPrefix: string;
  readonly format: 'json' | 'cbor';
  readonly names: 'obis' | 'channel';
  readonly energyUnit: EnergyUnit;
}

/** `<prefix>/<site>/<component>` (docs/uplink.md). */
export function topicOf(o: Pick<PayloadOptions, 'siteId' | 'topicPrefix'>, component: string): string {
  return `${o.topicPrefix}/${o.siteId}/${component}`;
}

/**
 * One component's values as a SenML pack: base name `<site>/<component>/` (so a full name reads
 * site/component/channel, like the topic), base time the message's time in seconds, one record per
 * channel with its unit, `t` only for a value measured at another time.
 */
export function toPack(m: NewMessage, o: PayloadOptions): SenmlPack {
  const bt = m.ts / 1000;
  return m.channels.map((ch, i) => {
    const { unit, value } = senmlValue(ch, m.values[i] ?? NaN, o.energyUnit);
    const r: SenmlRecord = i === 0 ? { bn: `${o.siteId}/${m.component}/`, bt } : {};
    r.n = recordName(ch, o.names === 'obis');
    if (unit !== undefined) r.u = unit;
    r.v = value;
    const t = m.times?.[i];
    if (t !== undefined && t !== m.ts) r.t = (t - m.ts) / 1000;
    return r;
  });
}

export function encodePayload(m: NewMessage, o: PayloadOptions): { payload: Buffer; contentType: string } {
  const pack = toPack(m, o);
  return o.format === 'cbor' ? { payload: encodeCbor(pack), contentType: SENML_CBOR } : { payload: Buffer.from(encodeJson(pack)), contentType: SENML_JSON };
}
