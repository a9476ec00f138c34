import type Database from 'better-sqlite3';

/**
 * The central system's tables (schema migration "OCPP"): chargers with their hashed password and last
 * boot, id tags mapped to customers, and charging sessions (transaction ids are the session row ids).
 */
export interface ChargerRow {
  readonly id: string;
  readonly password_hash: string;
  readonly vendor: string | null;
  readonly model: string | null;
  readonly firmware: string | null;
  readonly booted_ms: number | null;
  readonly seen_ms: number | null;
  readonly status: string | null;
}

export interface Session {
  readonly transactionId: number;
  readonly chargerId: string;
  readonly connectorId: number;
  readonly idTag: string;
  readonly customerId: string | null;
  readonly meterStartWh: number;
  readonly startedMs: number;
  readonly meterStopWh: number | null;
  readonly stoppedMs: number | null;
  readonly stopReason: string | null;
  readonly lastMeterWh: number | null;
  readonly powerW: number | null;
  /** The limit the charger reports it applies (MeterValues Power.Offered), W. */
  readonly offeredW: number | null;
  /** The limit the central system asked for, W (null: none). */
  readonly limitW: number | null;
  readonly billedTxId: number | null;
}

interface SessionRow {
  transaction_id: number;
  charger_id: string;
  connector_id: number;
  id_tag: string;
  customer_id: string | null;
  meter_start_wh: number;
  started_ms: number;
  meter_stop_wh: number | null;
  stopped_ms: number | null;
  stop_reason: string | null;
  last_meter_wh: number | null;
  power_w: number | null;
  offered_w: number | null;
  limit_w: number | null;
  billed_tx_id: number | null;
}

const fromRow = (r: SessionRow): Session => ({
  transactionId: r.transaction_id,
  chargerId: r.charger_id,
  connectorId: r.connector_id,
  idTag: r.id_tag,
  customerId: r.customer_id,
  meterStartWh: r.meter_start_wh,
  startedMs: r.started_ms,
  meterStopWh: r.meter_stop_wh,
  stoppedMs: r.stopped_ms,
  stopReason: r.stop_reason,
  lastMeterWh: r.last_meter_wh,
  powerW: r.power_w,
  offeredW: r.offered_w,
  limitW: r.limit_w,
  billedTxId: r.billed_tx_id,
});

export class SessionStore {
  constructor(private readonly db: Database.Database) {}

  charger(id: string): ChargerRow | undefined {
    return this.db.prepare<[string], ChargerRow>('SELECT * FROM ocpp_chargers WHERE id = ?').get(id);
  }

  setPasswordHash(id: string, hash: string): void {
    this.db
      .prepare('INSERT INTO ocpp_chargers (id, password_hash) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash')
      .run(id, hash);
  }

  booted(id: string, b: { vendor: string; model: string; firmware: string | null }, atMs: number): void {
    this.db
      .prepare('UPDATE ocpp_chargers SET vendor = ?, model = ?, firmware = ?, booted_ms = ?, seen_ms = ? WHERE id = ?')
      .run(b.vendor, b.model, b.firmware, atMs, atMs, id);
  }

  seen(id: string, atMs: number, status?: string): void {
    if (status === undefined) this.db.prepare('UPDATE ocpp_chargers SET seen_ms = ? WHERE id = ?').run(atMs, id);
    else this.db.prepare('UPDATE ocpp_chargers SET seen_ms = ?, status = ? WHERE id = ?').run(atMs, status, id);
  }

  setIdTag(idTag: string, customerId: string): void {
    this.db
      .prepare('INSERT INTO ocpp_id_tags (id_tag, customer_id) VALUES (?, ?) ON CONFLICT (id_tag) DO UPDATE SET customer_id = excluded.customer_id')
      .run(idTag, customerId);
  }

  customerOf(idTag: string): string | undefined {
    return this.db.prepare<[string], string>('SELECT customer_id FROM ocpp_id_tags WHERE id_tag = ? AND blocked = 0').pluck().get(idTag);
  }

  start(s: { chargerId: string; connectorId: number; idTag: string; customerId: string | null; meterStartWh: number; startedMs: number }): number {
    const r = this.db
      .prepare(
        'INSERT INTO ocpp_sessions (charger_id, connector_id, id_tag, customer_id, meter_start_wh, started_ms, last_meter_wh) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(s.chargerId, s.connectorId, s.idTag, s.customerId, s.meterStartWh, s.startedMs, s.meterStartWh);
    return Number(r.lastInsertRowid);
  }

  get(transactionId: number): Session | undefined {
    const r = this.db.prepare<[number], SessionRow>('SELECT * FROM ocpp_sessions WHERE transaction_id = ?').get(transactionId);
    return r ? fromRow(r) : undefined;
  }

  open(chargerId: string): Session[] {
    return this.db
      .prepare<[string], SessionRow>('SELECT * FROM ocpp_sessions WHERE charger_id = ? AND stopped_ms IS NULL ORDER BY transaction_id')
      .all(chargerId)
      .map(fromRow);
  }

  list(): Session[] {
    return this.db.prepare<[], SessionRow>('SELECT * FROM ocpp_sessions ORDER BY transaction_id').all().map(fromRow);
  }

  meter(transactionId: number, m: { wh?: number; powerW?: number; offeredW?: number }): void {
    this.db
      .prepare(
        'UPDATE ocpp_sessions SET last_meter_wh = coalesce(?, last_meter_wh), power_w = coalesce(?, power_w), offered_w = coalesce(?, offered_w) WHERE transaction_id = ?',
      )
      .run(m.wh ?? null, m.powerW ?? null, m.offeredW ?? null, transactionId);
  }

  setLimit(transactionId: number, limitW: number | null): void {
    this.db.prepare('UPDATE ocpp_sessions SET limit_w = ? WHERE transaction_id = ?').run(limitW, transactionId);
  }

  /** Stops a session once; a repeated StopTransaction changes nothing. */
  stop(transactionId: number, meterStopWh: number, stoppedMs: number, reason: string): void {
    this.db
      .prepare('UPDATE ocpp_sessions SET meter_stop_wh = ?, stopped_ms = ?, stop_reason = ?, last_meter_wh = ? WHERE transaction_id = ? AND stopped_ms IS NULL')
      .run(meterStopWh, stoppedMs, reason, meterStopWh, transactionId);
  }

  billed(transactionId: number, txId: number): void {
    this.db.prepare('UPDATE ocpp_sessions SET billed_tx_id = ? WHERE transaction_id = ?').run(txId, transactionId);
  }
}
