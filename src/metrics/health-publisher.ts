import { encodeCbor, encodeJson, SENML_CBOR, SENML_JSON } from '../uplink/senml.js';
import type { Clock } from '../util/clock.js';
import type { SystemFigures } from './figures.js';
import { healthPack } from './health.js';
import { hostFigures } from './host.js';

export interface StatePublisher {
  publishState(subtopic: string, payload: Buffer, contentType: string): boolean;
}

/** One health message on `<prefix>/<site>/health` (a scheduler job); nothing is sent or kept while disconnected. */
export function publishHealth(o: { figures: SystemFigures; uplink: StatePublisher; format: 'json' | 'cbor'; dataDir: string; clock: Clock }): boolean {
  const pack = healthPack(o.figures, hostFigures(o.dataDir), o.clock());
  const payload = o.format === 'cbor' ? encodeCbor(pack) : Buffer.from(encodeJson(pack));
  return o.uplink.publishState('health', payload, o.format === 'cbor' ? SENML_CBOR : SENML_JSON);
}
