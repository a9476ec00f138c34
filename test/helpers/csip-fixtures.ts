/**
 * Example IEEE 2030.5 / CSIP-AUS resources written from the standard's schema (sep.xsd,
 * csipaus-ext.xsd; docs/csip.md), with the namespaces a CSIP-AUS server uses.
 */
export const NS = 'xmlns="urn:ieee:std:2030.5:ns" xmlns:csipaus="https://csipaus.org/ns"';

export const dcapXml = (pollRate = 300): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<DeviceCapability ${NS} href="/dcap" pollRate="${pollRate}">
  <TimeLink href="/tm"/>
  <EndDeviceListLink href="/edev" all="1"/>
  <MirrorUsagePointListLink href="/mup" all="0"/>
</DeviceCapability>`;

export const endDeviceItem = (lfdi: string, sfdi: number, n = 1): string =>
  `<EndDevice href="/edev/${n}" subscribable="0">
    <DERListLink href="/edev/${n}/der" all="1"/>
    <lFDI>${lfdi}</lFDI>
    <sFDI>${sfdi}</sFDI>
    <changedTime>1782864000</changedTime>
    <enabled>true</enabled>
    <FunctionSetAssignmentsListLink href="/edev/${n}/fsa" all="1"/>
    <RegistrationLink href="/edev/${n}/rg"/>
    <csipaus:ConnectionPointLink href="/edev/${n}/cp"/>
  </EndDevice>`;

export const registrationXml = (pin = 111115, pollRate = 600): string =>
  `<Registration ${NS} href="/edev/1/rg" pollRate="${pollRate}"><dateTimeRegistered>1782864000</dateTimeRegistered><pIN>${pin}</pIN></Registration>`;

export const fsaItem = (n = 1): string =>
  `<FunctionSetAssignments href="/edev/1/fsa/${n}"><mRID>0F5A000000000000000000000000000${n}</mRID><description>FSA ${n}</description><DERProgramListLink href="/edev/1/fsa/${n}/derp" all="1"/><TimeLink href="/tm"/></FunctionSetAssignments>`;

export const programItem = (id: string, primacy: number): string =>
  `<DERProgram href="/derp/${id}"><mRID>${id.padStart(32, '0')}</mRID><description>program ${id}</description><ActiveDERControlListLink href="/derp/${id}/actderc" all="0"/><DefaultDERControlLink href="/derp/${id}/dderc"/><DERControlListLink href="/derp/${id}/derc" all="0"/><primacy>${primacy}</primacy></DERProgram>`;

export interface ControlSpec {
  readonly mRID: string;
  readonly start: number;
  readonly duration: number;
  readonly creationTime?: number;
  readonly status?: number;
  readonly statusTime?: number;
  readonly randomizeStart?: number;
  readonly randomizeDuration?: number;
  /** Element name (without prefix) → watts, boolean, or raw PerCent. */
  readonly base: Readonly<Record<string, number | boolean>>;
  readonly replyTo?: string;
}

// CSIP-AUS ActivePower elements: the DOE limits and the v1.3 storage target (signed, discharge positive).
const CSIP_LIMITS = new Set(['opModExpLimW', 'opModGenLimW', 'opModImpLimW', 'opModLoadLimW', 'opModStorageTargetW']);

export function baseXml(base: Readonly<Record<string, number | boolean>>): string {
  return Object.entries(base)
    .map(([k, v]) => {
      if (CSIP_LIMITS.has(k) && typeof v === 'number') {
        // ActivePower {multiplier, value}: 1500 W as 15 × 10^2 when it fits Int16 that way, else value with multiplier 0.
        const [m, val] = Number.isInteger(v / 100) && v !== 0 ? [2, v / 100] : [0, v];
        return `<csipaus:${k}><multiplier>${m}</multiplier><value>${val}</value></csipaus:${k}>`;
      }
      return `<${k}>${String(v)}</${k}>`;
    })
    .join('');
}

export const controlItem = (c: ControlSpec): string =>
  `<DERControl href="/derc/${c.mRID}" replyTo="${c.replyTo ?? '/rsps/1/rsp'}" responseRequired="03" subscribable="0">
    <mRID>${c.mRID}</mRID><description>event ${c.mRID}</description>
    <creationTime>${c.creationTime ?? 1782860000}</creationTime>
    <EventStatus><currentStatus>${c.status ?? 0}</currentStatus><dateTime>${c.statusTime ?? c.creationTime ?? 1782860000}</dateTime><potentiallySuperseded>false</potentiallySuperseded></EventStatus>
    <interval><duration>${c.duration}</duration><start>${c.start}</start></interval>
    ${c.randomizeDuration === undefined ? '' : `<randomizeDuration>${c.randomizeDuration}</randomizeDuration>`}
    ${c.randomizeStart === undefined ? '' : `<randomizeStart>${c.randomizeStart}</randomizeStart>`}
    <DERControlBase>${baseXml(c.base)}</DERControlBase>
  </DERControl>`;

/** `setGradW` null: the server sets none. */
export const defaultXml = (id: string, base: Readonly<Record<string, number | boolean>>, setGradW: number | null = 27): string =>
  `<DefaultDERControl ${NS} href="/derp/${id}/dderc"><mRID>D${id.padStart(31, '0')}</mRID><description>default ${id}</description><DERControlBase>${baseXml(base)}</DERControlBase>${setGradW === null ? '' : `<setGradW>${setGradW}</setGradW>`}</DefaultDERControl>`;

export const listXml = (name: string, items: readonly string[], pollRate = 60): string =>
  `<${name} ${NS} href="/x" all="${items.length}" results="${items.length}" pollRate="${pollRate}">${items.join('')}</${name}>`;
