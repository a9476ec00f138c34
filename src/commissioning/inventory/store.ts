import type Database from 'better-sqlite3';
import { systemClock } from '../../util/clock.js';
import { addressPlan, sameSite, type AddressPlan, type BusSlot, type Phases, type UsedAddress } from '../address-plan.js';
import type { CommissioningConfig } from '../commissioning-config.js';
import { InventoryError } from './error.js';
import { CHINT_MODELS, requireSerial, resolveModel, unknownModel, type MeterModels } from './fields.js';
import { overdueReason } from './overdue.js';
import { canTransition, holdsAddress, refusal, STATUSES, type InventoryStatus } from './status.js';
import {
  createInventoryTables,
  historyFromRow,
  meterFromRow,
  rowFromMeter,
  UPSERT_METER,
  type HistoryAction,
  type HistoryEntry,
  type InventoryMeter,
  type MeterRow,
} from './tables.js';

export interface InventoryOptions {
  readonly commissioning: Pick<CommissioningConfig, 'addressPlan' | 'assignedOverdueDays' | 'installedOverdueDays'>;
  /** Accepted models and their phases; default DDSU666 (1) and DTSU666 (3). */
  readonly models?: MeterModels;
  /** Addresses held by meters in the site config: they are on the bus whatever the inventory says. */
  readonly configured?: () => readonly UsedAddress[];
  /** The site of this edge box: the default site of a new meter, and the site whose buses are known. */
  readonly localSite?: string;
  /** Bus ids of the local site; the first is where a meter without a bus goes (as in the site config). */
  readonly buses?: readonly string[];
  readonly now?: () => number;
}

export interface InventoryView extends InventoryMeter {
  readonly overdue: boolean;
  readonly overdueReason: string | null;
}

export interface NewMeter {
  readonly serial: string;
  readonly model: string;
  readonly site?: string;
  readonly building?: string;
  readonly bus?: string;
  /** Given: the meter is assigned at once (Unassigned -> Assigned, both in history). */
  readonly address?: number;
  readonly notes?: string;
  readonly reason?: string;
}

export interface TransitionRequest {
  readonly to: InventoryStatus;
  readonly reason: string;
  /** Only when going to Assigned. */
  readonly address?: number;
  readonly bus?: string;
}

export interface MeterEdit {
  readonly notes?: string;
  readonly building?: string;
  readonly site?: string;
  readonly reason?: string;
}

export interface InventoryFilter {
  readonly status?: InventoryStatus;
  readonly site?: string;
  readonly model?: string;
  readonly overdue?: boolean;
  /** Text search over serial, site, building, notes, model and bus. */
  readonly q?: string;
}

/** Bus a meter without one is counted on when checking addresses (the config's rule: the first bus). */
const NO_BUS = '(default bus)';

/**
 * The meter inventory that replaces the master spreadsheet. Each change writes the record and its
 * history entry in one transaction, so the current state always matches the append-only history.
 */
export class InventoryStore {
  readonly addressPlan: AddressPlan;
  readonly models: MeterModels;
  readonly now: () => number;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: InventoryOptions,
  ) {
    createInventoryTables(db);
    this.models = opts.models ?? CHINT_MODELS;
    this.now = opts.now ?? systemClock;
    this.addressPlan = addressPlan(opts.commissioning.addressPlan, () => [...(opts.configured?.() ?? []), ...this.usedAddresses()]);
  }

  get localSite(): string {
    return this.opts.localSite ?? '';
  }

  /** Where a meter's address must be unique; a meter without a bus counts on the default bus. */
  slot(site: string, bus: string | null): BusSlot {
    return { site, bus: bus ?? this.opts.buses?.[0] ?? NO_BUS };
  }

  phasesOf(model: string): Phases {
    const p = this.models.phasesOf(model);
    if (p === undefined) throw new InventoryError('invalid', `model: ${unknownModel(this.models, model)}`);
    return p;
  }

  get(serial: string): InventoryView | undefined {
    const row = this.db.prepare('SELECT * FROM inventory_meters WHERE serial = ?').get(requireSerial(serial)) as MeterRow | undefined;
    return row ? this.view(meterFromRow(row)) : undefined;
  }

  require(serial: string): InventoryView {
    const m = this.get(serial);
    if (!m) throw new InventoryError('not-found', `no meter ${serial} in the inventory; add it first (POST /api/inventory)`);
    return m;
  }

  list(filter: InventoryFilter = {}): InventoryView[] {
    const where: string[] = [];
    const args: string[] = [];
    const add = (sql: string, ...values: string[]): void => {
      where.push(sql);
      args.push(...values);
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.site !== undefined) add('site = ? COLLATE NOCASE', filter.site.trim());
    if (filter.model) add('model = ? COLLATE NOCASE', filter.model.trim());
    const q = filter.q?.trim();
    if (q) {
      const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const searched = ['serial', 'site', 'building', 'notes', 'model', "ifnull(bus, '')"];
      add(`(${searched.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`, ...searched.map(() => like));
    }
    const sql = `SELECT * FROM inventory_meters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY serial`;
    const views = (this.db.prepare(sql).all(...args) as MeterRow[]).map((r) => this.view(meterFromRow(r)));
    return filter.overdue === undefined ? views : views.filter((v) => v.overdue === filter.overdue);
  }

  history(serial: string): HistoryEntry[] {
    this.require(serial);
    return (this.db.prepare('SELECT * FROM inventory_history WHERE serial = ? ORDER BY id').all(serial) as Parameters<typeof historyFromRow>[0][]).map(
      historyFromRow,
    );
  }

  /** Addresses inventory meters hold (assigned and not decommissioned). */
  usedAddresses(): UsedAddress[] {
    const rows = this.db.prepare('SELECT serial, site, bus, address, status FROM inventory_meters WHERE address IS NOT NULL').all() as {
      serial: string;
      site: string;
      bus: string | null;
      address: number;
      status: InventoryStatus;
    }[];
    return rows
      .filter((r) => holdsAddress(r.status))
      .map((r) => ({ ...this.slot(r.site, r.bus), address: r.address, serial: r.serial, by: `inventory meter ${r.serial} (${r.status})` }));
  }

  create(input: NewMeter, by: string): InventoryView {
    return this.db.transaction(() => {
      const serial = requireSerial(input.serial.trim());
      const existing = this.get(serial);
      if (existing)
        throw new InventoryError('conflict', `meter ${serial} is already in the inventory (${existing.status}); change it with a transition or an edit`);
      const model = resolveModel(this.models, input.model);
      if (!model) throw new InventoryError('invalid', `model: ${unknownModel(this.models, input.model)}`);
      const site = input.site?.trim() || this.localSite;
      const bus = input.bus?.trim() || null;
      if (bus) this.requireBus(site, bus);
      const received: InventoryMeter = {
        serial,
        model,
        site,
        building: input.building?.trim() ?? '',
        bus,
        address: null,
        status: 'Unassigned',
        notes: input.notes ?? '',
        stages: { Unassigned: { at: this.now(), by } },
      };
      this.write(received, null, 'created', input.reason?.trim() || 'received', by);
      if (input.address === undefined) return this.view(received);
      return this.view(this.move(received, { to: 'Assigned', reason: input.reason?.trim() || 'address assigned on entry', address: input.address }, by));
    })();
  }

  transition(serial: string, req: TransitionRequest, by: string): InventoryView {
    return this.db.transaction(() => this.view(this.move(this.require(serial), req, by)))();
  }

  edit(serial: string, e: MeterEdit, by: string): InventoryView {
    return this.db.transaction(() => {
      const cur = this.require(serial);
      const next: InventoryMeter = {
        ...stripView(cur),
        notes: e.notes ?? cur.notes,
        building: e.building?.trim() ?? cur.building,
        site: e.site?.trim() ?? cur.site,
      };
      if (next.site !== cur.site && holdsAddress(next.status) && next.address !== null) this.requireFree(next, next.address, false);
      if (next.site !== cur.site && next.bus) this.requireBus(next.site, next.bus);
      if (next.notes === cur.notes && next.building === cur.building && next.site === cur.site) return cur;
      this.write(next, cur, 'edited', e.reason?.trim() ?? '', by);
      return this.view(next);
    })();
  }

  /** Writes whole records checked by the caller (the CSV import), each with an "imported" entry. */
  importMeters(meters: readonly InventoryMeter[], by: string, reason: string): { created: number; updated: number } {
    return this.db.transaction(() => {
      let created = 0;
      for (const m of meters) {
        const prev = this.get(m.serial);
        if (!prev) created++;
        this.write(m, prev ? stripView(prev) : null, 'imported', reason, by);
      }
      return { created, updated: meters.length - created };
    })();
  }

  private move(cur: InventoryMeter, req: TransitionRequest, by: string): InventoryMeter {
    if (!canTransition(cur.status, req.to)) throw new InventoryError('conflict', refusal(cur.serial, cur.status, req.to));
    const reason = req.reason.trim();
    if (!reason) throw new InventoryError('invalid', 'reason: say why, e.g. "converted in the lab, answers at its address"; it goes into the audit trail');
    if (req.address !== undefined && req.to !== 'Assigned') {
      throw new InventoryError(
        'invalid',
        `address: an address is given only when assigning (to: Assigned); meter ${cur.serial} keeps ${cur.address ?? 'none'}`,
      );
    }
    const bus = req.bus?.trim() || cur.bus;
    if (req.bus?.trim() && bus) this.requireBus(cur.site, bus);
    const next: InventoryMeter = {
      ...stripView(cur),
      bus,
      status: req.to,
      address: req.address ?? cur.address,
      stages: { ...cur.stages, [req.to]: { at: this.now(), by } },
    };
    if (req.to === 'Assigned') {
      if (req.address === undefined) {
        const free = this.addressPlan.suggest(this.slot(cur.site, bus), this.phasesOf(cur.model), { ignore: (u) => u.serial === cur.serial });
        throw new InventoryError('invalid', `address: assigning needs an address${free === null ? '' : `; the next free one on this bus is ${free}`}`);
      }
      this.requireFree(next, req.address, false);
    } else if (req.to === 'Commissioned') {
      if (!bus)
        throw new InventoryError(
          'invalid',
          `bus: commissioning needs the bus the meter is wired to${this.opts.buses?.length ? `; allowed: ${this.opts.buses.join(', ')}` : ''}`,
        );
      if (next.address === null) throw new InventoryError('invalid', `address: meter ${cur.serial} has no address; it cannot be commissioned`);
      // The commissioning team adds this meter to the site config, so a configured meter at its address is itself.
      this.requireFree(next, next.address, true);
    } else if (holdsAddress(req.to) && bus !== cur.bus && next.address !== null) {
      this.requireFree(next, next.address, false);
    }
    this.write(next, cur, 'transition', reason, by);
    return next;
  }

  private requireFree(m: InventoryMeter, address: number, ignoreConfigured: boolean): void {
    const r = this.addressPlan.check(this.slot(m.site, m.bus), this.phasesOf(m.model), address, {
      ignore: (u) => u.serial === m.serial || (ignoreConfigured && u.serial === undefined),
    });
    if (!r.ok) throw new InventoryError(r.code === 'taken' ? 'conflict' : 'invalid', `address: ${r.reason}`);
  }

  /** Bus ids are known only for this box's own site; other sites' buses are taken as given. */
  private requireBus(site: string, bus: string): void {
    const buses = this.opts.buses ?? [];
    if (buses.length === 0 || !sameSite(site, this.localSite)) return;
    if (!buses.includes(bus)) throw new InventoryError('invalid', `bus: no bus "${bus}" at ${site}; allowed: ${buses.join(', ')}`);
  }

  private write(next: InventoryMeter, prev: InventoryMeter | null, action: HistoryAction, reason: string, by: string): void {
    this.db.prepare(UPSERT_METER).run(rowFromMeter(next));
    const edit = action === 'edited';
    this.db
      .prepare('INSERT INTO inventory_history (serial, at, by, action, from_status, to_status, reason, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        next.serial,
        this.now(),
        by,
        action,
        edit ? null : (prev?.status ?? null),
        edit ? null : next.status,
        reason,
        JSON.stringify(changes(prev, next, action === 'imported')),
      );
  }

  private view(m: InventoryMeter): InventoryView {
    const reason = overdueReason(m, this.now(), this.opts.commissioning);
    return { ...m, overdue: reason !== null, overdueReason: reason };
  }
}

function stripView(m: InventoryMeter): InventoryMeter {
  const { serial, model, site, building, bus, address, status, notes, stages } = m;
  return { serial, model, site, building, bus, address, status, notes, stages };
}

const FIELDS = ['model', 'site', 'building', 'bus', 'address', 'status', 'notes'] as const;

/** What changed, for the audit trail. Stage stamps are listed only for imports: a transition's own entry is its stamp. */
function changes(prev: InventoryMeter | null, next: InventoryMeter, withStages: boolean): Record<string, readonly [unknown, unknown]> {
  const out: Record<string, readonly [unknown, unknown]> = {};
  for (const f of FIELDS) {
    const before = prev ? prev[f] : null;
    if (before !== next[f]) out[f] = [before, next[f]];
  }
  // Compared in workflow order, so the order the stamps were set in does not matter.
  const stages = (m: InventoryMeter | null): string => JSON.stringify(STATUSES.map((s) => m?.stages[s] ?? null));
  if (withStages && stages(prev) !== stages(next)) out.stages = [prev?.stages ?? null, next.stages];
  return out;
}
