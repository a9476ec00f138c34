import type { DeviceProfile } from '../../drivers/profile-schema.js';
import { loadProfiles } from '../../drivers/profiles.js';
import type { Dlt645Link } from '../../dlt645/link.js';
import type { ModbusBus } from '../../modbus/bus.js';
import { ModbusError } from '../../modbus/modbus-error.js';
import { describeLine, openDlt645, openModbus, type BenchLineSpec } from './line.js';
import { StepFailure, StepLog, type ConverterListener, type StepId, type StepRecord } from './log.js';
import { readAddressRegister, readChannel, requireModel, writeAddress, type ModbusMeterInfo } from './modbus.js';
import { checkPlan, ConverterRefusal, type MeterPlan } from './plan.js';
import { FACTORY_MODBUS_ADDRESS, type MeterModel } from '../../dlt645/converter-registers.js';

/**
 * The converter's "full process" (the field team's pre-commissioning guide, converter.exe): identify over DL/T645, switch the
 * protocol, find the meter on Modbus at address 1, write the assigned address, verify it there.
 *
 * The protocol switch is the operator's: no public document describes a DL/T645 write (0x14) that
 * switches a CHINT meter to Modbus; CHINT documents the front-panel menu (password 701, quick manual
 * fig. 5; docs/modbus.md). So the run shows the route and waits for operatorConfirmed().
 */
export interface ConverterOptions {
  readonly line: BenchLineSpec;
  readonly plan: MeterPlan;
  readonly profiles?: ReadonlyMap<string, DeviceProfile>;
  /** How long to wait for the operator's front-panel switch (default 10 minutes). */
  readonly operatorTimeoutMs?: number;
  /** Modbus probes at address 1 after the switch; the field guide: "Meter needs time to restart". Default 5, 1 s apart. */
  readonly probeAttempts?: number;
  readonly probeIntervalMs?: number;
  readonly clock?: () => number;
}

export interface ConversionResult {
  readonly ok: boolean;
  readonly serial?: string;
  readonly model?: MeterModel;
  readonly address?: number;
  readonly energyKWh?: number;
  readonly voltage?: number;
  readonly failedStep?: StepId;
  readonly reason?: string;
  readonly steps: readonly StepRecord[];
}

export type RunState = 'idle' | 'running' | 'waiting-for-operator' | 'done' | 'failed';

/** Verification accepts a bench mains voltage in this range (230 V +-20%, generous for weak lab supplies). */
export const VERIFY_VOLTAGE = { min: 180, max: 260 } as const;

/** The front-panel route from DL/T645 to Modbus 8N2 (CHINT quick manual fig. 5, Conn menu; the field team uses 9600 8N2). */
export function frontPanelInstructions(model: MeterModel): string[] {
  return [
    `On the ${model}'s front panel, open the programming menu (SET key) and enter password 701.`,
    'Go to the Conn (communication) menu and set the protocol item to n.2 (Modbus RTU, 8 data bits, no parity, 2 stop bits).',
    `Leave the baud rate at 9600${model === 'DTSU666' ? ' (bAud = 9600)' : ''}, save, and leave the menu. The meter then answers Modbus at address 1.`,
    'Then confirm here. (Key names vary by firmware: see the meter quick manual, Conn menu.)',
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmtKWh = (k: number): string => `${k.toFixed(2)} kWh`;
const fmtMs = (ms: number): string => (ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

/** Identify step shared by the full process and the standalone identify. */
async function identifyStep(log: StepLog, line: BenchLineSpec, expectedSerial?: string): Promise<{ serial: string; energyKWh: number }> {
  return log.run(
    'identify',
    'Identify the meter over DL/T645 (read address, read energy)',
    async () => {
      let link: Dlt645Link | undefined;
      try {
        link = await openDlt645(line);
        const serial = await link.readAddress().catch((e: unknown) => {
          throw new Error(
            `${e instanceof Error ? e.message : String(e)}. Check A+/B- wiring and power; only ONE meter may be on the line; a meter already in Modbus mode does not answer DL/T645 (use "mgos convert set-address").`,
            { cause: e },
          );
        });
        if (expectedSerial !== undefined && serial !== expectedSerial) {
          throw new ConverterRefusal(
            `the meter on the bench is ${serial} but the plan is for ${expectedSerial}; connect the right meter or correct the inventory`,
          );
        }
        return { serial, energyKWh: await link.readEnergy(serial) };
      } finally {
        await link?.close();
      }
    },
    (r) => `serial ${r.serial}, positive active energy ${fmtKWh(r.energyKWh)} (${describeLine(line, 'dlt645')})`,
  );
}

export interface IdentifyResult {
  readonly ok: boolean;
  readonly serial?: string;
  readonly energyKWh?: number;
  readonly reason?: string;
  readonly steps: readonly StepRecord[];
}

/** "mgos convert identify": who is on the bench, over DL/T645 only. */
export async function identifyOverDlt645(line: BenchLineSpec, o: { clock?: () => number; onEvent?: ConverterListener } = {}): Promise<IdentifyResult> {
  const log = new StepLog(o.clock);
  if (o.onEvent) log.on(o.onEvent);
  try {
    return { ok: true, ...(await identifyStep(log, line)), steps: log.steps() };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, steps: log.steps() };
  }
}

export class ConverterRun {
  readonly log: StepLog;
  private runState: RunState = 'idle';
  private result: Promise<ConversionResult> | undefined;
  private confirm: () => void = () => undefined;
  private abort: (reason: Error) => void = () => undefined;
  private readonly confirmed: Promise<void>;
  private currentInstructions: readonly string[] | undefined;
  private readonly profiles: ReadonlyMap<string, DeviceProfile>;

  constructor(private readonly o: ConverterOptions) {
    this.log = new StepLog(o.clock);
    this.profiles = o.profiles ?? loadProfiles();
    this.confirmed = new Promise<void>((resolve, reject) => {
      this.confirm = resolve;
      this.abort = reject;
    });
    this.confirmed.catch(() => undefined);
  }

  on(listener: ConverterListener): () => void {
    return this.log.on(listener);
  }

  get state(): RunState {
    return this.runState;
  }

  /** The front-panel route while the run waits for the operator. */
  get instructions(): readonly string[] | undefined {
    return this.currentInstructions;
  }

  /** The operator has switched the meter to Modbus on its front panel (may be called before the run asks). */
  operatorConfirmed(): void {
    this.confirm();
  }

  /** Stops a run that waits for the operator. */
  cancel(reason: string): void {
    this.abort(new Error(`cancelled: ${reason}`));
  }

  /** Runs the procedure once; later calls return the same result. */
  start(): Promise<ConversionResult> {
    this.result ??= this.execute();
    return this.result;
  }

  private async execute(): Promise<ConversionResult> {
    this.runState = 'running';
    const facts: { serial?: string; model?: MeterModel; address?: number; energyKWh?: number; voltage?: number } = {};
    let bus: ModbusBus | undefined;
    try {
      const { plan, line } = this.o;
      await this.log.run(
        'plan',
        'Check the plan',
        () => checkPlan(plan, this.profiles),
        (d) => d,
      );
      Object.assign(facts, await identifyStep(this.log, line, plan.serial));
      await this.log.run(
        'protocol-switch',
        'Switch the meter to Modbus RTU on its front panel (operator)',
        () => this.waitForOperator(plan.model),
        (ms) => `operator confirmed the switch after ${(ms / 1000).toFixed(1)} s`,
      );
      const open = openModbus(line);
      bus = open;
      const info = await this.log.run(
        'modbus-probe',
        `Find the meter on Modbus at address ${FACTORY_MODBUS_ADDRESS} and identify its model`,
        () => this.probe(open, plan.model),
        (i) => `${i.model} at address ${i.address}${i.protocol ? ` (protocol ${i.protocol}, ${i.baudRate} baud)` : ''} on ${describeLine(line, 'modbus')}`,
      );
      facts.model = info.model;
      await this.log.run(
        'set-address',
        `Write address ${plan.address}`,
        () => writeAddress(open, info.model, FACTORY_MODBUS_ADDRESS, plan.address, this.profiles),
        (a) =>
          a === 'acknowledged'
            ? `meter acknowledged address ${plan.address}`
            : 'no reply to the write (the meter may have moved before answering); verifying at the new address',
      );
      const verified = await this.log.run(
        'verify',
        `Verify at address ${plan.address}`,
        () => this.verify(open, info.model, plan.address, facts.energyKWh),
        (r) => r.detail,
      );
      Object.assign(facts, { address: plan.address, voltage: verified.voltage });
      this.runState = 'done';
      return { ok: true, ...facts, steps: this.log.steps() };
    } catch (e) {
      this.runState = 'failed';
      const failedStep = e instanceof StepFailure ? e.step : undefined;
      return { ok: false, ...facts, failedStep, reason: (e as Error).message, steps: this.log.steps() };
    } finally {
      this.currentInstructions = undefined;
      await bus?.close();
    }
  }

  private async waitForOperator(model: MeterModel): Promise<number> {
    const started = performance.now(); // a duration: monotonic
    const timeoutMs = this.o.operatorTimeoutMs ?? 600_000;
    this.currentInstructions = frontPanelInstructions(model);
    this.runState = 'waiting-for-operator';
    this.log.emit({ type: 'operator-action', step: 'protocol-switch', instructions: this.currentInstructions });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.confirmed,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the operator did not confirm the front-panel switch within ${fmtMs(timeoutMs)}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.currentInstructions = undefined;
      this.runState = 'running';
    }
    return Math.round(performance.now() - started);
  }

  private async probe(bus: ModbusBus, expected: MeterModel): Promise<ModbusMeterInfo> {
    const attempts = Math.max(1, this.o.probeAttempts ?? 5);
    for (let i = 1; ; i++) {
      try {
        return await requireModel(bus, FACTORY_MODBUS_ADDRESS, expected);
      } catch (e) {
        const silent = e instanceof ModbusError && (e.kind === 'timeout' || e.kind === 'disconnected');
        if (!silent) throw e;
        if (i >= attempts) {
          throw new Error(
            `no Modbus reply at address ${FACTORY_MODBUS_ADDRESS} on ${describeLine(this.o.line, 'modbus')} after ${attempts} attempts (${e.message}): the meter is probably still in DL/T645 mode; check Conn/Protocol = n.2 on its front panel, or power-cycle it and wait`,
            { cause: e },
          );
        }
        await sleep(this.o.probeIntervalMs ?? 1000);
      }
    }
  }

  private async verify(bus: ModbusBus, model: MeterModel, address: number, dltEnergy: number | undefined): Promise<{ voltage: number; detail: string }> {
    const profile = this.profiles.get(model);
    if (!profile) throw new Error(`no ${model} profile`);
    const held = await readAddressRegister(bus, address, model, this.profiles).catch((e: unknown) => {
      throw new Error(`no answer at the new address ${address}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    });
    if (held !== address) throw new Error(`the meter at ${address} reports address ${held} in its address register`);
    const voltage = await readChannel(bus, address, profile, 'Voltage_L1');
    if (!(voltage >= VERIFY_VOLTAGE.min && voltage <= VERIFY_VOLTAGE.max)) {
      throw new Error(
        `Voltage_L1 reads ${voltage} V at address ${address}, outside ${VERIFY_VOLTAGE.min}-${VERIFY_VOLTAGE.max} V: check the supply and the meter`,
      );
    }
    const energy = await readChannel(bus, address, profile, 'EnergyImport').catch(() => undefined);
    const energyNote =
      energy === undefined ? '' : `; Modbus import energy ${fmtKWh(energy)}${dltEnergy === undefined ? '' : ` (DL/T645 said ${fmtKWh(dltEnergy)})`}`;
    return { voltage, detail: `address register holds ${held}; Voltage_L1 ${voltage.toFixed(1)} V${energyNote}` };
  }
}
