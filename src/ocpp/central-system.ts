import { RPCServer, type IHandlersOption, type RPCClient } from 'ocpp-rpc';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { chargeEntries } from '../billing/bill-posting.js';
import { getCustomer } from '../billing/customers.js';
import { ACCOUNTS, type Ledger } from '../billing/ledger.js';
import { rate } from '../billing/rating.js';
import { loadTariff } from '../billing/tariff-store.js';
import type { ProcessImage } from '../channels/process-image.js';
import type { StoreDb } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import { EV_STATUS, EvChannels, evComponentOf } from './ev-channels.js';
import type { OcppConfig } from './ocpp-config.js';
import { SessionStore, type Session } from './session-store.js';

/**
 * OCPP 1.6J central system (issue 12 item 5) on ocpp-rpc (protocol ocpp1.6, strict schema validation
 * both ways). Chargers connect with basic auth (password checked against its scrypt hash); the CS
 * answers BootNotification, Heartbeat, StatusNotification, Authorize (id tag -> customer),
 * StartTransaction, StopTransaction and MeterValues, and sends RemoteStart/RemoteStopTransaction,
 * SetChargingProfile and ClearChargingProfile. A stopped session's energy is rated by the customer's
 * tariff and posted to the ledger as a consumption line, once per transaction id.
 *
 * Smart charging quirks handled (issue 12; docs/ocpp.md): every profile carries `startSchedule`
 * (chargers reject profiles without it); a ChargePointMaxProfile goes only to connector 0; a limit
 * for a running transaction is a TxProfile with its transactionId, otherwise a TxDefaultProfile on
 * connector 0 for the sessions to come.
 */
export interface CentralSystemDeps {
  readonly config: OcppConfig;
  readonly db: StoreDb;
  readonly ledger: Ledger | null;
  readonly timeZone: string;
  readonly clock: Clock;
  readonly log?: (message: string) => void;
  /** Where each charger's power, limit and status go as channels (ev-channels.ts), for the edge cycle. */
  readonly image?: Pick<ProcessImage, 'update' | 'markFailed'>;
}

export class OcppRefused extends Error {}

const TX_PROFILE_ID = 1;
const TX_DEFAULT_PROFILE_ID = 2;
const MAX_PROFILE_ID = 3;

type Params = Record<string, unknown>;

const num = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null;

/** A sampled value in W or Wh whatever unit the charger used (kW, kWh scaled). */
function sampled(sv: Params): { measurand: string; value: number } | null {
  const v = num(sv['value']);
  if (v === null) return null;
  const unit = typeof sv['unit'] === 'string' ? sv['unit'] : undefined;
  const measurand = typeof sv['measurand'] === 'string' ? sv['measurand'] : 'Energy.Active.Import.Register';
  return { measurand, value: unit === 'kW' || unit === 'kWh' ? v * 1000 : v };
}

export class CentralSystem {
  readonly sessions: SessionStore;
  private readonly server: RPCServer;
  private readonly clients = new Map<string, RPCClient>();
  private port = 0;
  private readonly channels: EvChannels | null;
  /** Charger id -> its component in the process image, as the edge cycle's assets name it. */
  private readonly components = new Map<string, string>();

  constructor(private readonly d: CentralSystemDeps) {
    this.sessions = new SessionStore(d.db);
    this.channels = d.image ? new EvChannels(d.image, (id) => this.components.get(id) ?? evComponentOf(id)) : null;
    for (const c of d.config.chargers) if (c.passwordHash) this.sessions.setPasswordHash(c.id, c.passwordHash);
    for (const t of d.config.idTags) this.sessions.setIdTag(t.idTag, t.customerId);
    this.server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
    this.server.auth((accept, reject, handshake) => {
      const charger = this.sessions.charger(handshake.identity);
      const password = handshake.password?.toString('utf8');
      if (!charger || password === undefined) {
        this.log(`ocpp: ${handshake.identity} refused: ${charger ? 'no password' : 'unknown charger'}`);
        reject(401, 'Unauthorized');
        return;
      }
      void verifyPassword(password, charger.password_hash).then(
        (ok) => {
          if (ok) accept({ chargerId: handshake.identity });
          else {
            this.log(`ocpp: ${handshake.identity} refused: wrong password`);
            reject(401, 'Unauthorized');
          }
        },
        () => reject(500, 'Internal Server Error'),
      );
    });
    this.server.on('client', (client: RPCClient) => this.onClient(client));
  }

  private log(m: string): void {
    this.d.log?.(m);
  }

  private iso(): string {
    return new Date(this.d.clock()).toISOString();
  }

  async listen(host = this.d.config.host, port = this.d.config.port): Promise<number> {
    const http = await this.server.listen(port, host);
    const a = http.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    return this.port;
  }

  get boundPort(): number {
    return this.port;
  }

  async close(): Promise<void> {
    await this.server.close({ force: true });
  }

  async setChargerPassword(chargerId: string, password: string): Promise<void> {
    this.sessions.setPasswordHash(chargerId, await hashPassword(password));
  }

  setIdTag(idTag: string, customerId: string): void {
    this.sessions.setIdTag(idTag, customerId);
  }

  connected(): string[] {
    return [...this.clients.keys()];
  }

  /** Names a charger's component (the edge cycle's `ev-charger` asset); otherwise `ev<id>`. */
  bindComponent(chargerId: string, component: string): void {
    this.components.set(chargerId, component);
  }

  isConnected(chargerId: string): boolean {
    return this.clients.has(chargerId);
  }

  /** The running transaction of a charger (the first connector's), or null. */
  transactionOf(chargerId: string): number | null {
    return this.sessions.open(chargerId)[0]?.transactionId ?? null;
  }

  private publish(chargerId: string, values: Parameters<EvChannels['write']>[1]): void {
    this.channels?.write(chargerId, values, this.d.clock());
  }

  /** Whether a transaction runs; without one the car draws nothing (a known 0, not a missing value). */
  private txChannels(chargerId: string): { transaction: number; power?: number } {
    return this.transactionOf(chargerId) === null ? { transaction: 0, power: 0 } : { transaction: 1 };
  }

  private onClient(client: RPCClient): void {
    const id = client.identity ?? '';
    this.clients.set(id, client);
    client.on('close', () => {
      if (this.clients.get(id) !== client) return;
      this.clients.delete(id);
      this.channels?.lost(id, this.d.clock());
    });
    this.publish(id, this.txChannels(id));
    const h = (method: string, fn: (p: Params) => Record<string, unknown>) =>
      client.handle(method, ({ params }: IHandlersOption) => {
        this.sessions.seen(id, this.d.clock());
        return Promise.resolve(fn((params ?? {}) as Params));
      });
    h('BootNotification', (p) => {
      this.sessions.booted(
        id,
        {
          vendor: String(p['chargePointVendor']),
          model: String(p['chargePointModel']),
          firmware: typeof p['firmwareVersion'] === 'string' ? p['firmwareVersion'] : null,
        },
        this.d.clock(),
      );
      return { status: 'Accepted', currentTime: this.iso(), interval: this.d.config.heartbeatS };
    });
    h('Heartbeat', () => {
      this.publish(id, this.txChannels(id));
      return { currentTime: this.iso() };
    });
    h('StatusNotification', (p) => {
      this.sessions.seen(id, this.d.clock(), `${String(p['connectorId'])}:${String(p['status'])}`);
      // Connector 0 is the charger as a whole; the channels follow the connectors (one per charger here).
      if (p['connectorId'] !== 0) this.publish(id, { status: EV_STATUS[String(p['status'])] ?? -1, ...this.txChannels(id) });
      return {};
    });
    h('Authorize', (p) => ({ idTagInfo: { status: this.sessions.customerOf(String(p['idTag'])) ? 'Accepted' : 'Invalid' } }));
    h('StartTransaction', (p) => {
      const idTag = String(p['idTag']);
      const customerId = this.sessions.customerOf(idTag) ?? null;
      const busy = this.sessions.open(id).some((s) => s.connectorId === p['connectorId']);
      // A transaction is recorded even when refused: transactionId is required in the StartTransaction answer (ocpp-rpc's OCPP 1.6 schema).
      const transactionId = this.sessions.start({
        chargerId: id,
        connectorId: Number(p['connectorId']),
        idTag,
        customerId,
        meterStartWh: Number(p['meterStart']),
        startedMs: Date.parse(String(p['timestamp'])) || this.d.clock(),
      });
      const status = !customerId ? 'Invalid' : busy ? 'ConcurrentTx' : 'Accepted';
      if (status !== 'Accepted') this.sessions.stop(transactionId, Number(p['meterStart']), this.d.clock(), `refused: ${status}`);
      else this.publish(id, { transaction: 1, power: 0 });
      return { idTagInfo: { status }, transactionId };
    });
    h('MeterValues', (p) => {
      const tx = num(p['transactionId']);
      if (tx === null || !this.sessions.get(tx)) return {};
      for (const mv of (p['meterValue'] ?? []) as Params[]) {
        for (const sv of (mv['sampledValue'] ?? []) as Params[]) {
          const s = sampled(sv);
          if (!s) continue;
          if (s.measurand === 'Energy.Active.Import.Register') this.sessions.meter(tx, { wh: Math.round(s.value) });
          else if (s.measurand === 'Power.Active.Import') {
            this.sessions.meter(tx, { powerW: s.value });
            this.publish(id, { power: s.value });
          } else if (s.measurand === 'Power.Offered') {
            this.sessions.meter(tx, { offeredW: s.value });
            this.publish(id, { limit: s.value });
          }
        }
      }
      return {};
    });
    h('StopTransaction', (p) => {
      const tx = Number(p['transactionId']);
      const s = this.sessions.get(tx);
      if (!s) return { idTagInfo: { status: 'Invalid' } };
      this.sessions.stop(
        tx,
        Number(p['meterStop']),
        Date.parse(String(p['timestamp'])) || this.d.clock(),
        typeof p['reason'] === 'string' ? p['reason'] : 'Local',
      );
      this.publish(id, { ...this.txChannels(id), power: 0 });
      try {
        this.bill(tx);
      } catch (e) {
        this.log(`ocpp: billing transaction ${tx} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      return { idTagInfo: { status: 'Accepted' } };
    });
  }

  /**
   * Posts a stopped session's energy to its customer's account: rated by the customer's tariff as one
   * interval at the session's start (energy and its taxes; the month's block position is not
   * counted), key `ocpp:<transactionId>` so a repeated StopTransaction posts nothing more.
   */
  bill(transactionId: number): number | null {
    const s = this.sessions.get(transactionId);
    if (!s || s.stoppedMs === null || s.meterStopWh === null || !s.customerId || !this.d.ledger) return null;
    const wh = Math.max(0, s.meterStopWh - s.meterStartWh);
    if (wh === 0) return null;
    const customer = getCustomer(this.d.db, s.customerId);
    if (!customer) throw new Error(`no customer ${s.customerId}`);
    const tariff = loadTariff(this.d.db, customer.tariffId);
    if (!tariff) throw new Error(`no tariff ${customer.tariffId}`);
    const bill = rate([{ startMs: s.startedMs, kWh: wh / 1000 }], tariff, { fromMs: s.startedMs, toMs: s.startedMs + 1 }, this.d.timeZone, {
      includeFixed: false,
    });
    if (bill.totalMinor === 0) return null;
    const ledger = this.d.ledger;
    const { tx } = ledger.post({
      key: `ocpp:${transactionId}`,
      kind: 'consumption',
      reference: `EV charging ${s.chargerId}/${s.connectorId} transaction ${transactionId}: ${(wh / 1000).toFixed(3)} kWh`,
      atMs: s.stoppedMs,
      lines: chargeEntries(ledger, ACCOUNTS.customer(customer.id), bill.lines),
    });
    this.sessions.billed(transactionId, tx.id);
    return tx.id;
  }

  private client(chargerId: string): RPCClient {
    const c = this.clients.get(chargerId);
    if (!c) throw new OcppRefused(`charger ${chargerId} is not connected`);
    return c;
  }

  private async call(chargerId: string, method: string, params: Params): Promise<Params> {
    return (await this.client(chargerId).call(method, params)) as Params;
  }

  async remoteStart(chargerId: string, idTag: string, connectorId = 1): Promise<string> {
    const r = await this.call(chargerId, 'RemoteStartTransaction', { idTag, connectorId });
    return String(r['status']);
  }

  async remoteStop(chargerId: string, transactionId: number): Promise<string> {
    const r = await this.call(chargerId, 'RemoteStopTransaction', { transactionId });
    return String(r['status']);
  }

  private profile(id: number, purpose: 'TxProfile' | 'TxDefaultProfile' | 'ChargePointMaxProfile', watts: number, transactionId?: number): Params {
    return {
      chargingProfileId: id,
      ...(transactionId !== undefined ? { transactionId } : {}),
      stackLevel: 0,
      chargingProfilePurpose: purpose,
      chargingProfileKind: 'Absolute',
      chargingSchedule: {
        startSchedule: this.iso(),
        chargingRateUnit: 'W',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: Math.round(Math.max(0, watts) * 10) / 10 }],
      },
    };
  }

  /**
   * The edge cycle's hook: limit a charger's charging power (W), or null to lift the limit. With a
   * running transaction, a TxProfile on its connector; otherwise a TxDefaultProfile on connector 0.
   * Resolves with the charger's answer (Accepted, Rejected, NotSupported).
   */
  async setChargerLimitW(chargerId: string, watts: number | null): Promise<string> {
    const open = this.sessions.open(chargerId);
    if (watts === null) {
      const r = await this.call(chargerId, 'ClearChargingProfile', { chargingProfilePurpose: open.length ? 'TxProfile' : 'TxDefaultProfile' });
      for (const s of open) this.sessions.setLimit(s.transactionId, null);
      return String(r['status']);
    }
    if (open.length === 0) {
      const r = await this.call(chargerId, 'SetChargingProfile', {
        connectorId: 0,
        csChargingProfiles: this.profile(TX_DEFAULT_PROFILE_ID, 'TxDefaultProfile', watts),
      });
      if (r['status'] === 'Accepted') this.publish(chargerId, { limit: watts });
      return String(r['status']);
    }
    let status = 'Accepted';
    for (const s of open) {
      const r = await this.call(chargerId, 'SetChargingProfile', {
        connectorId: s.connectorId,
        csChargingProfiles: this.profile(TX_PROFILE_ID, 'TxProfile', watts, s.transactionId),
      });
      status = String(r['status']);
      if (status === 'Accepted') {
        this.sessions.setLimit(s.transactionId, watts);
        this.publish(chargerId, { limit: watts });
      }
    }
    return status;
  }

  /** A cap for the whole charger (ChargePointMaxProfile, only ever on connector 0). */
  async setChargerMaxW(chargerId: string, watts: number): Promise<string> {
    const r = await this.call(chargerId, 'SetChargingProfile', {
      connectorId: 0,
      csChargingProfiles: this.profile(MAX_PROFILE_ID, 'ChargePointMaxProfile', watts),
    });
    return String(r['status']);
  }

  session(transactionId: number): Session | undefined {
    return this.sessions.get(transactionId);
  }
}
