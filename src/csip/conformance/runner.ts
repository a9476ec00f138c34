import { CsipClient } from '../client.js';
import { CsipPubSub } from '../pubsub-runtime.js';
import type { DerReport } from '../der-reports.js';
import type { TelemetryReport } from '../mirror-readings.js';
import type { ActiveLimits } from '../schedule.js';
import { setGradWInForce } from '../ramp.js';
import { deviceIdentity } from '../lfdi.js';
import { CsipTestServer } from '../test-server.js';
import { manualClock } from '../../util/clock.js';
import { ProcedureRun, unsupportedNames } from './interpreter.js';
import { scopeUnsupported } from './scope.js';
import { Tester, testerUnsupported } from './tester.js';
import type { Pki } from './pki.js';
import type { Procedure } from './procedure.js';
import { UtilityModel } from './utility-model.js';

/**
 * Runs one CACTUS procedure against this project's 2030.5 client (client.ts, the code the site's
 * UtilityRuntime runs) over HTTPS with mutual TLS: the utility model behind the test server, the
 * client on a manual clock that jumps to the next instant anything can happen (nextWakeMs), so an hour
 * of the procedure takes a second or two. The client's tick and Response posting run at each stop, as
 * the site runs them every second.
 */

export type Verdict =
  | { readonly id: string; readonly result: 'PASS'; readonly simulatedS: number }
  | { readonly id: string; readonly result: 'FAIL'; readonly reason: string; readonly simulatedS: number }
  | { readonly id: string; readonly result: 'UNSUPPORTED'; readonly reason: string };

/** A deliberate fault in the client's behaviour, to show that the checks catch it. */
export type Sabotage = 'none' | 'no-responses' | 'no-der-reports' | 'no-subscriptions';

export interface RunOptions {
  readonly pki: Pki;
  /** The DER behind the client (ratings, settings, status as the site would report them). */
  readonly der?: DerReport;
  /** Start of the run's clock (epoch ms); fixed, so runs do not depend on today's date. */
  readonly startMs?: number;
  /** Give up after this much simulated time (s). Default: 2 h more than all the procedure's waits (ALL-25-EXT waits 72 h). */
  readonly limitS?: number;
  readonly sabotage?: Sabotage;
  /** How long after the preconditions are met the operator starts the test (s). Default OPERATOR_START_DELAY_S. */
  readonly startDelayS?: number;
  /** Sees the utility model when the run ends (what the client sent), for diagnosis. */
  readonly inspect?: (model: UtilityModel) => void;
}

/** A 5 kW PV inverter with a 5 kW / 10 kWh battery, as the simulator offers; the battery follows storage targets (vppModes bit 0). */
export const DEFAULT_DER: DerReport = {
  capability: {
    modesSupported: 0x80,
    doeModesSupported: 0x0f,
    vppModesSupported: 0x01,
    type: 83,
    rtgMaxW: 5000,
    rtgMaxVA: 5000,
    rtgMaxVar: 3000,
    rtgMaxVarNeg: 3000,
    rtgMaxChargeRateW: 5000,
    rtgMaxDischargeRateW: 5000,
    rtgMaxWh: 10_000,
    rtgMinPFOverExcited: 0.8,
    rtgMinPFUnderExcited: 0.8,
  },
  settings: {
    modesEnabled: 0x80,
    doeModesEnabled: 0x0f,
    vppModesEnabled: 0x01,
    // The default 10 % minimum SoC of the safety envelope (site-ders.ts).
    setMinWh: 1000,
    setGradW: 27,
    setMaxW: 5000,
    setMaxVA: 5000,
    setMaxVar: 3000,
    setMaxVarNeg: 3000,
    setMaxChargeRateW: 5000,
    setMaxDischargeRateW: 5000,
    setMaxWh: 10_000,
    setMinPFOverExcited: 0.8,
    setMinPFUnderExcited: 0.8,
  },
  status: { genConnectStatus: 0b111, operationalModeStatus: 2, alarmStatus: 0 },
};

/** DeviceCategoryType bit 18, virtual or mixed DER: a site controller with PV and a battery behind it. */
export const DEVICE_CATEGORY = 1 << 18;

/** What the runner's site measures: 2 kW exported at the connection point, the inverter at 3 kW, a half-full battery. */
export const TELEMETRY: TelemetryReport = {
  site: { activePowerW: -2000, reactivePowerVar: 150, voltageV: 241.5 },
  ders: [{ activePowerW: 3000, reactivePowerVar: 100, voltageV: 242.1, storedEnergyWh: 5000 }],
};

/** A made-up National Metering Identifier for the site's connection point. */
export const NMI = '4102000001';

/** 2026-01-15 02:00 UTC (noon in AEST). */
export const DEFAULT_START_MS = Date.UTC(2026, 0, 15, 2, 0, 0);

/**
 * The simulated DER obeys the connection controls in force: opModConnect false disconnects it
 * (ConnectStatus bit 0 connected and bit 2 operating clear), opModEnergize false stops it operating (bit 2).
 * What the tester did to it (tester.ts) stays: a DER the tester disconnected is not connected by the utility.
 * Its DERSettings report the setGradW the site's ramp applies (ramp.ts: the default's, else 27), as a
 * site's UtilityRuntime does with a rating to ramp by (`appliedSetGradW`).
 */
export function followLimits(der: DerReport, limits: ActiveLimits, setGradW = der.settings.setGradW): DerReport {
  const own = der.status.genConnectStatus;
  const connected = (own & 0b001) !== 0 && limits.opModConnect?.value !== false;
  const operating = connected && (own & 0b100) !== 0 && limits.opModEnergize?.value !== false;
  const genConnectStatus = (own & ~0b101) | (connected ? 0b001 : 0) | (operating ? 0b100 : 0);
  return { ...der, settings: { ...der.settings, setGradW }, status: { ...der.status, genConnectStatus } };
}

const INIT_LIMIT_MS = 3600_000;

/**
 * The operator starts the test this long after its preconditions are met. In CACTUS the start is the
 * operator's click, at some phase of the client's polling; right at the client's read (0 s) is the one
 * phase in which a control created at the start and lasting one poll period (ALL-21's DERC1) is first
 * read at its end.
 */
export const OPERATOR_START_DELAY_S = 10;

/** The longest the clock jumps at once: a failed Response post is tried again within this (the site ticks every second). */
const MAX_JUMP_MS = 10_000;

/**
 * The next instant anything can happen: a read or post of the client falls due, a wait of the procedure
 * ends, or an event the client knows starts or ends (its Responses). Nothing happens in between, so
 * the clock jumps there (at least 1 s, at most MAX_JUMP_MS): hours of a procedure run in seconds.
 */
function nextWakeMs(now: number, client: CsipClient, run: ProcedureRun, pubsub: CsipPubSub | null): number {
  const nowS = client.now() / 1000;
  const offsetMs = client.timeOffsetMs;
  const candidates = [client.nextDueMs(), run.nextWakeMs() ?? Infinity, pubsub?.subscriptions.nextDueMs() ?? Infinity];
  for (const e of client.limits().events) for (const t of [e.start, e.end]) if (t > nowS) candidates.push(t * 1000 - offsetMs);
  return Math.min(now + MAX_JUMP_MS, Math.max(now + 1000, Math.ceil(Math.min(...candidates))));
}

export async function runProcedure(p: Procedure, o: RunOptions): Promise<Verdict> {
  const missing = [...unsupportedNames(p), ...scopeUnsupported(p), ...testerUnsupported(p)];
  if (missing.length > 0) return { id: p.id, result: 'UNSUPPORTED', reason: missing.join(', ') };
  const clock = manualClock(o.startMs ?? DEFAULT_START_MS);
  const startMs = clock();
  const model = new UtilityModel(clock, deviceIdentity(o.pki.deviceCert));
  const run = new ProcedureRun(p, model, (o.startDelayS ?? OPERATOR_START_DELAY_S) * 1000);
  const server = new CsipTestServer({ cert: o.pki.serverCert, key: o.pki.serverKey, ca: o.pki.caCert, clock, route: (r) => model.route(r) });
  const url = await server.start();
  model.baseUrl = url;
  // The utility's notifications go out with its own certificate, verified against the CA (as the client's endpoint requires).
  model.transmit = (uri, body) => server.notify(uri, body, o.pki.caCert);
  const tester = new Tester(p, o.der ?? DEFAULT_DER);
  const client: CsipClient = new CsipClient({
    baseUrl: url,
    cert: o.pki.deviceCert,
    key: o.pki.deviceKey,
    ca: o.pki.caCert,
    clock,
    retryMs: 10_000,
    timeoutMs: 5000,
    ...(o.sabotage === 'no-der-reports'
      ? {}
      : { ders: (): DerReport[] => [followLimits(tester.der(), client.limits().limits, setGradWInForce(client.programs()))] }),
    register: { deviceCategory: DEVICE_CATEGORY },
    connectionPointId: NMI,
    telemetry: () => TELEMETRY,
  });
  const pubsub =
    o.sabotage === 'no-subscriptions'
      ? null
      : new CsipPubSub(client, {
          clock,
          cert: o.pki.deviceCert,
          key: o.pki.deviceKey,
          ca: o.pki.caCert,
          host: '127.0.0.1',
          port: 0,
          publicUri: (port) => `https://127.0.0.1:${port}/notify`,
          maxBodyBytes: 262_144,
          limit: 100,
          retryMs: 10_000,
        });
  if (pubsub) await pubsub.start();
  const waitsS = Object.values(p.Steps).reduce((sum, st) => sum + (st.event.type === 'wait' ? Number(st.event.parameters['duration_seconds'] ?? 0) : 0), 0);
  const limitMs = (o.limitS ?? Math.min(waitsS + 2 * 3600, 100 * 3600)) * 1000;
  const simulatedS = (): number => Math.round((clock() - startMs) / 1000);
  let initReason = 'the precondition checks never passed';
  try {
    run.begin();
    // The init phase ends when the client has registered and reported, which takes it minutes.
    while (!run.finished && clock() - startMs < (run.phase === 'init' ? Math.min(limitMs, INIT_LIMIT_MS) : limitMs)) {
      await client.tick();
      if (o.sabotage !== 'no-responses') await client.postResponses();
      if (run.phase === 'init') {
        const r = run.poll();
        if (!r.pass) initReason = `precondition not met: ${r.reason}`;
      }
      run.onTime();
      // The tester carries out the instructions of the steps now waiting (the client sees it at its next tick).
      if (run.phase === 'test') tester.act(run.active.keys());
      await pubsub?.sync();
      // Notifications made due by the actions so far, applied by the client before the clock moves on.
      while (model.pendingNotifications > 0) {
        await model.flush();
        await pubsub?.server.idle();
        if (!model.commsEnabled || !pubsub) break;
      }
      if (run.idleDone()) break;
      if (run.errors.length > 0) break;
      clock.set(nextWakeMs(clock(), client, run, pubsub));
    }
  } finally {
    await pubsub?.stop();
    await client.stop();
    await server.close();
    o.inspect?.(model);
  }
  if (run.errors.length > 0) return { id: p.id, result: 'FAIL', reason: run.errors.join('; '), simulatedS: simulatedS() };
  if (run.phase === 'init') return { id: p.id, result: 'FAIL', reason: `${initReason} (client: ${client.lastError ?? 'no error'})`, simulatedS: simulatedS() };
  if (run.finished?.failMessage !== undefined)
    return { id: p.id, result: 'FAIL', reason: `finish-test: ${run.finished.failMessage}`, simulatedS: simulatedS() };
  const timedOut = !run.finished && run.active.size > 0;
  for (const c of p.Criteria.checks) {
    const r = run.check(c);
    if (!r.pass)
      return {
        id: p.id,
        result: 'FAIL',
        reason: `${c.type}: ${r.reason}${timedOut ? ` (stopped after ${simulatedS()} s simulated)` : ''}`,
        simulatedS: simulatedS(),
      };
  }
  if (model.clientErrors.length > 0)
    return { id: p.id, result: 'FAIL', reason: `the server could not read: ${model.clientErrors.join('; ')}`, simulatedS: simulatedS() };
  return { id: p.id, result: 'PASS', simulatedS: simulatedS() };
}

export function verdictLine(v: Verdict): string {
  if (v.result === 'PASS') return `PASS        ${v.id} (${v.simulatedS} s simulated)`;
  if (v.result === 'FAIL') return `FAIL        ${v.id}: ${v.reason}`;
  return `UNSUPPORTED ${v.id}: ${v.reason}`;
}
