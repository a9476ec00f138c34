import { CSIPAUS_NS, SEP_NS } from './resources.js';

/**
 * What the client reports about each DER (IEEE 2030.5 §10.10, CSIP-AUS): its ratings (DERCapability),
 * the settings in force (DERSettings) and its status (DERStatus), written as XML for a PUT to the
 * links of the server's DER resource. Powers in W (or VA, var), written as {multiplier, value} with the
 * value in Int16; element order follows sep.xsd, the CSIP-AUS extensions come last (in envoy's order:
 * doeModes, then the v1.3 storage extension's vppModes and setMinWh).
 */

export interface DerCapabilityReport {
  /** DERControlType bits (hex of 32 bits, sep.xsd), e.g. bit 7 opModFixedW... */
  readonly modesSupported: number;
  /** CSIP-AUS DOE modes: bit 0 opModExpLimW, 1 opModImpLimW, 2 opModGenLimW, 3 opModLoadLimW. */
  readonly doeModesSupported: number;
  /** CSIP-AUS v1.3 storage extension (VPPControlType): bit 0 opModStorageTargetW; left out when undefined. */
  readonly vppModesSupported?: number;
  /** DERType: 4 PV, 80 storage, 83 PV and storage. */
  readonly type: number;
  readonly rtgMaxW: number;
  readonly rtgMaxVA: number;
  readonly rtgMaxVar: number;
  readonly rtgMaxVarNeg?: number;
  readonly rtgMaxChargeRateW?: number;
  readonly rtgMaxDischargeRateW?: number;
  readonly rtgMaxWh?: number;
  /** Displacement power factor, e.g. 0.8. */
  readonly rtgMinPFOverExcited?: number;
  readonly rtgMinPFUnderExcited?: number;
}

export interface DerSettingsReport {
  readonly modesEnabled: number;
  readonly doeModesEnabled: number;
  /** CSIP-AUS v1.3 storage extension: the VPP modes carried out (bit 0 opModStorageTargetW). */
  readonly vppModesEnabled?: number;
  /** CSIP-AUS v1.3 storage extension: the stored energy below which the battery is not discharged (Wh). */
  readonly setMinWh?: number;
  /** Hundredths of a percent of rated power per second; left out when no ramp is applied (never claimed). */
  readonly setGradW?: number;
  readonly setMaxW: number;
  readonly setMaxVA: number;
  readonly setMaxVar: number;
  readonly setMaxVarNeg?: number;
  readonly setMaxChargeRateW?: number;
  readonly setMaxDischargeRateW?: number;
  readonly setMaxWh?: number;
  readonly setMinPFOverExcited?: number;
  readonly setMinPFUnderExcited?: number;
}

export interface DerStatusReport {
  /** ConnectStatusType bits: 0 connected, 1 available, 2 operating, 3 test, 4 fault. */
  readonly genConnectStatus: number;
  /** 0 not applicable, 1 off, 2 operational, 3 test. */
  readonly operationalModeStatus: number;
  readonly alarmStatus: number;
  /** State of charge in percent (storage only). */
  readonly stateOfChargePct?: number;
}

export interface DerReport {
  readonly capability: DerCapabilityReport;
  readonly settings: DerSettingsReport;
  readonly status: DerStatusReport;
}

const NS = `xmlns="${SEP_NS}" xmlns:csipaus="${CSIPAUS_NS}"`;

/** {multiplier, value} with value in Int16: the smallest power of ten that makes it fit. */
export function powerXml(name: string, w: number): string {
  let m = 0;
  while (Math.abs(Math.round(w / 10 ** m)) > 32767 && m < 9) m++;
  return `<${name}><multiplier>${m}</multiplier><value>${Math.round(w / 10 ** m)}</value></${name}>`;
}

const pfXml = (name: string, pf: number): string => `<${name}><displacement>${Math.round(pf * 1000)}</displacement><multiplier>-3</multiplier></${name}>`;
const hex32 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
/** HexBinary8 (the VPP mode bits): two hex digits. */
const hex8 = (n: number): string => (n & 0xff).toString(16).toUpperCase().padStart(2, '0');
const csipOpt = (name: string, v: number | undefined, f: (x: number) => string): string =>
  v === undefined ? '' : `<csipaus:${name}>${f(v)}</csipaus:${name}>`;
const opt = (name: string, v: number | undefined, f: (n: string, x: number) => string = powerXml): string => (v === undefined ? '' : f(name, v));

export function capabilityXml(c: DerCapabilityReport): string {
  return (
    `<DERCapability ${NS}><modesSupported>${hex32(c.modesSupported)}</modesSupported>` +
    opt('rtgMaxChargeRateW', c.rtgMaxChargeRateW) +
    opt('rtgMaxDischargeRateW', c.rtgMaxDischargeRateW) +
    powerXml('rtgMaxVA', c.rtgMaxVA) +
    powerXml('rtgMaxVar', c.rtgMaxVar) +
    opt('rtgMaxVarNeg', c.rtgMaxVarNeg) +
    powerXml('rtgMaxW', c.rtgMaxW) +
    opt('rtgMaxWh', c.rtgMaxWh) +
    opt('rtgMinPFOverExcited', c.rtgMinPFOverExcited, pfXml) +
    opt('rtgMinPFUnderExcited', c.rtgMinPFUnderExcited, pfXml) +
    `<type>${c.type}</type><csipaus:doeModesSupported>${hex32(c.doeModesSupported)}</csipaus:doeModesSupported>` +
    csipOpt('vppModesSupported', c.vppModesSupported, hex8) +
    `</DERCapability>`
  );
}

export function settingsXml(s: DerSettingsReport, nowS: number): string {
  return (
    `<DERSettings ${NS}><modesEnabled>${hex32(s.modesEnabled)}</modesEnabled>` +
    (s.setGradW === undefined ? '' : `<setGradW>${s.setGradW}</setGradW>`) +
    opt('setMaxChargeRateW', s.setMaxChargeRateW) +
    opt('setMaxDischargeRateW', s.setMaxDischargeRateW) +
    powerXml('setMaxVA', s.setMaxVA) +
    powerXml('setMaxVar', s.setMaxVar) +
    opt('setMaxVarNeg', s.setMaxVarNeg) +
    powerXml('setMaxW', s.setMaxW) +
    opt('setMaxWh', s.setMaxWh) +
    opt('setMinPFOverExcited', s.setMinPFOverExcited, pfXml) +
    opt('setMinPFUnderExcited', s.setMinPFUnderExcited, pfXml) +
    `<updatedTime>${Math.floor(nowS)}</updatedTime><csipaus:doeModesEnabled>${hex32(s.doeModesEnabled)}</csipaus:doeModesEnabled>` +
    csipOpt('vppModesEnabled', s.vppModesEnabled, hex8) +
    (s.setMinWh === undefined ? '' : powerXml('csipaus:setMinWh', s.setMinWh)) +
    `</DERSettings>`
  );
}

export function statusXml(s: DerStatusReport, nowS: number): string {
  const t = Math.floor(nowS);
  const soc =
    s.stateOfChargePct === undefined
      ? ''
      : `<stateOfChargeStatus><dateTime>${t}</dateTime><value>${Math.round(s.stateOfChargePct * 100)}</value></stateOfChargeStatus>`;
  return (
    `<DERStatus ${NS}><alarmStatus>${hex32(s.alarmStatus)}</alarmStatus>` +
    `<genConnectStatus><dateTime>${t}</dateTime><value>${(s.genConnectStatus & 0xff).toString(16).toUpperCase().padStart(2, '0')}</value></genConnectStatus>` +
    `<operationalModeStatus><dateTime>${t}</dateTime><value>${s.operationalModeStatus}</value></operationalModeStatus>` +
    `<readingTime>${t}</readingTime>${soc}</DERStatus>`
  );
}
