import { RPCClient, type IHandlersOption } from 'ocpp-rpc';
import type { Clock } from '../util/clock.js';

/**
 * A simulated OCPP 1.6J charge point with a car (ocpp-rpc's RPCClient, strict schema validation): it
 * boots, authorises, starts and stops transactions, reports meter values and follows charging
 * profiles the way real chargers do, quirks included: a profile without `startSchedule` is rejected,
 * a ChargePointMaxProfile on a connector other than 0 is rejected. The power it draws is the least of
 * the car's maximum, the TxProfile / TxDefaultProfile limit and the ChargePointMaxProfile limit; it
 * reports the limit it applies as MeterValues `Power.Offered`. Energy advances only when `drive(ms)`
 * is called, so a test decides the time.
 */
export interface SimChargerOptions {
  readonly url: string;
  readonly id: string;
  readonly password: string;
  readonly clock: Clock;
  readonly carMaxW?: number;
  readonly meterStartWh?: number;
}

type Params = Record<string, unknown>;
type Purpose = 'TxProfile' | 'TxDefaultProfile' | 'ChargePointMaxProfile';

interface Profile {
  readonly id: number;
  readonly purpose: Purpose;
  readonly limitW: number;
  readonly transactionId?: number;
}

export class SimCharger {
  readonly client: RPCClient;
  energyWh: number;
  transactionId: number | null = null;
  remoteStarts: string[] = [];
  private idTag: string | null = null;
  private readonly profiles = new Map<number, Profile>();
  readonly received: Params[] = [];

  constructor(private readonly o: SimChargerOptions) {
    this.energyWh = o.meterStartWh ?? 1_000_000;
    this.client = new RPCClient({
      endpoint: o.url,
      identity: o.id,
      password: o.password,
      protocols: ['ocpp1.6'],
      strictMode: true,
      reconnect: false,
    } as ConstructorParameters<typeof RPCClient>[0]);
    this.client.handle('SetChargingProfile', ({ params }: IHandlersOption) => Promise.resolve({ status: this.setProfile((params ?? {}) as Params) }));
    this.client.handle('ClearChargingProfile', ({ params }: IHandlersOption) => {
      const p = (params ?? {}) as Params;
      let found = false;
      for (const [id, prof] of this.profiles) {
        if ((p['id'] !== undefined && p['id'] !== id) || (p['chargingProfilePurpose'] !== undefined && p['chargingProfilePurpose'] !== prof.purpose)) continue;
        this.profiles.delete(id);
        found = true;
      }
      return Promise.resolve({ status: found ? 'Accepted' : 'Unknown' });
    });
    this.client.handle('RemoteStartTransaction', ({ params }: IHandlersOption) => {
      const idTag = String(((params ?? {}) as Params)['idTag']);
      if (this.transactionId !== null) return Promise.resolve({ status: 'Rejected' });
      this.remoteStarts.push(idTag);
      setImmediate(() => void this.start(idTag).catch(() => undefined));
      return Promise.resolve({ status: 'Accepted' });
    });
    this.client.handle('RemoteStopTransaction', ({ params }: IHandlersOption) => {
      if (this.transactionId === null || ((params ?? {}) as Params)['transactionId'] !== this.transactionId) return Promise.resolve({ status: 'Rejected' });
      setImmediate(() => void this.stop('Remote').catch(() => undefined));
      return Promise.resolve({ status: 'Accepted' });
    });
  }

  private iso(): string {
    return new Date(this.o.clock()).toISOString();
  }

  private setProfile(p: Params): 'Accepted' | 'Rejected' {
    this.received.push(p);
    const prof = p['csChargingProfiles'] as Params;
    const sched = prof['chargingSchedule'] as Params;
    const purpose = prof['chargingProfilePurpose'] as Purpose;
    if (typeof sched['startSchedule'] !== 'string') return 'Rejected'; // the quirk of many chargers
    if (purpose === 'ChargePointMaxProfile' && p['connectorId'] !== 0) return 'Rejected';
    if (purpose === 'TxProfile' && (this.transactionId === null || (prof['transactionId'] !== undefined && prof['transactionId'] !== this.transactionId)))
      return 'Rejected';
    const periods = sched['chargingSchedulePeriod'] as Params[];
    const first = periods[0];
    const limit = Number(first?.['limit']);
    const limitW = sched['chargingRateUnit'] === 'A' ? limit * 230 * Number(first?.['numberPhases'] ?? 3) : limit;
    this.profiles.set(Number(prof['chargingProfileId']), {
      id: Number(prof['chargingProfileId']),
      purpose,
      limitW,
      ...(typeof prof['transactionId'] === 'number' ? { transactionId: prof['transactionId'] } : {}),
    });
    return 'Accepted';
  }

  /** The limit applied now (W): a TxProfile overrides the TxDefaultProfile; the max profile caps both. */
  limitW(): number {
    const all = [...this.profiles.values()];
    const tx = all.find((p) => p.purpose === 'TxProfile' && p.transactionId === this.transactionId) ?? all.find((p) => p.purpose === 'TxDefaultProfile');
    const max = all.find((p) => p.purpose === 'ChargePointMaxProfile');
    return Math.min(this.o.carMaxW ?? 7400, tx?.limitW ?? Infinity, max?.limitW ?? Infinity);
  }

  powerW(): number {
    return this.transactionId === null ? 0 : this.limitW();
  }

  async connect(): Promise<Params> {
    await this.client.connect();
    const boot = (await this.client.call('BootNotification', { chargePointVendor: 'mgos-sim', chargePointModel: 'AC-22', firmwareVersion: '1.0.0' })) as Params;
    await this.status('Available');
    return boot;
  }

  async status(status: string): Promise<void> {
    await this.client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status, timestamp: this.iso() });
  }

  async heartbeat(): Promise<Params> {
    return (await this.client.call('Heartbeat', {})) as Params;
  }

  async authorize(idTag: string): Promise<string> {
    const r = (await this.client.call('Authorize', { idTag })) as { idTagInfo: { status: string } };
    return r.idTagInfo.status;
  }

  async start(idTag: string): Promise<{ status: string; transactionId: number }> {
    await this.status('Preparing');
    const r = (await this.client.call('StartTransaction', { connectorId: 1, idTag, meterStart: Math.round(this.energyWh), timestamp: this.iso() })) as {
      idTagInfo: { status: string };
      transactionId: number;
    };
    if (r.idTagInfo.status === 'Accepted') {
      this.transactionId = r.transactionId;
      this.idTag = idTag;
      await this.status('Charging');
    } else await this.status('Available');
    return { status: r.idTagInfo.status, transactionId: r.transactionId };
  }

  /** The car charges for `ms` at the applied limit, then the charger sends its meter values. */
  async drive(ms: number): Promise<void> {
    if (this.transactionId === null) return;
    this.energyWh += (this.powerW() * ms) / 3_600_000;
    await this.client.call('MeterValues', {
      connectorId: 1,
      transactionId: this.transactionId,
      meterValue: [
        {
          timestamp: this.iso(),
          sampledValue: [
            { value: String(Math.round(this.energyWh)), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: this.powerW().toFixed(1), context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
            { value: this.limitW().toFixed(1), context: 'Sample.Periodic', measurand: 'Power.Offered', unit: 'W' },
          ],
        },
      ],
    });
  }

  async stop(reason = 'EVDisconnected'): Promise<Params | null> {
    if (this.transactionId === null) return null;
    const tx = this.transactionId;
    this.transactionId = null;
    for (const [id, p] of this.profiles) if (p.purpose === 'TxProfile') this.profiles.delete(id);
    const r = (await this.client.call('StopTransaction', {
      transactionId: tx,
      meterStop: Math.round(this.energyWh),
      timestamp: this.iso(),
      reason,
      ...(this.idTag ? { idTag: this.idTag } : {}),
    })) as Params;
    await this.status('Available');
    return r;
  }

  async close(): Promise<void> {
    await this.client.close({ force: true });
  }
}
