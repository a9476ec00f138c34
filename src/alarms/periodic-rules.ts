import path from 'node:path';
import type { SiteConfig } from '../config/site-config.js';
import type { MeterInfo, SiteRuntime } from '../site/site-runtime.js';
import type { StoreDb } from '../store/database.js';
import { dailyEnergy, intervals, latestReading } from '../store/history.js';
import { INTERVAL_MS } from '../store/interval-calc.js';
import { ZonedClock } from '../store/zoned-clock.js';
import { diskFinding, type DiskProbe } from './rules/disk-free.js';
import { balanceFinding, type DayBalance } from './rules/energy-balance.js';
import { notLoggingFinding } from './rules/not-logging.js';
import { quarantineFinding } from './rules/interval-quarantine.js';
import { listQuarantined } from '../store/quarantine.js';
import type { Finding } from './types.js';

export interface PeriodicRuleDeps {
  readonly db: StoreDb;
  readonly site: SiteRuntime;
  readonly config: SiteConfig;
  readonly diskProbe: DiskProbe;
  readonly now: () => number;
  /** When the engine started watching: a meter with nothing stored is judged from then. */
  readonly watchingSince: number;
  readonly onError: (what: string, err: unknown) => void;
}

/** The rules judged from the database and the disk, on a slow timer: not logging, energy balance, disk free. */
export class PeriodicRules {
  private readonly clock: ZonedClock;

  constructor(private readonly d: PeriodicRuleDeps) {
    this.clock = new ZonedClock(d.config.site.timezone);
  }

  async evaluate(): Promise<Finding[]> {
    const out: Finding[] = [...this.notLogging(), ...this.quarantine()];
    const balance = this.lastDayBalance();
    const b = balance && balanceFinding(balance, this.d.config.alarms.energyBalanceMaxShare);
    if (b) out.push(b);
    const disk = await this.disk();
    if (disk) out.push(disk);
    return out;
  }

  private enabled(role?: MeterInfo['role']): MeterInfo[] {
    return this.d.site.meterList().filter((m) => m.enabled && (role === undefined || m.role === role));
  }

  /**
   * Only meters that answer are judged: a silent meter stores nothing because it says nothing, and
   * meter_offline (or bus_down) already names that cause; advice about the recorder and the disk
   * would send the operator the wrong way. A silent meter is left out, so an alarm raised while it
   * answered stays as it was.
   */
  private notLogging(): Finding[] {
    const now = this.d.now();
    const out: Finding[] = [];
    for (const m of this.enabled()) {
      const poll = this.d.site.pollStatusOf(m.key);
      if (poll && !poll.ok) continue;
      out.push(notLoggingFinding(m, latestReading(this.d.db, m.key)?.ts, this.d.watchingSince, now, this.d.config.alarms.notLoggingMinutes, poll?.since));
    }
    return out;
  }

  /** Every meter with quarantined intervals, and a clear for every other meter the site knows. */
  private quarantine(): Finding[] {
    const open = new Map<string, ReturnType<typeof listQuarantined>>();
    for (const q of listQuarantined(this.d.db)) open.set(q.meter, [...(open.get(q.meter) ?? []), q]);
    const names = new Map(this.d.site.meterList().map((m) => [m.key, m.name]));
    const keys = new Set([...names.keys(), ...open.keys()]);
    return [...keys].map((k) => quarantineFinding(k, names.get(k), open.get(k) ?? []));
  }

  /** The last complete local day, once the main meter's last interval of it is built; undefined before. */
  lastDayBalance(): DayBalance | undefined {
    const main = this.d.site.mainMeter();
    if (!main) return undefined;
    const day = this.clock.day(this.clock.dayStart(this.d.now()) - 1);
    const [from, to] = this.clock.dayRange(day);
    const complete = (key: string): boolean => intervals(this.d.db, key, to - INTERVAL_MS, to).length > 0;
    if (!complete(main.key)) return undefined;
    const net = (key: string): number => dailyEnergy(this.d.db, key, from, to, this.clock.timeZone).reduce((s, e) => s + e.importKWh - e.exportKWh, 0);
    const customers = this.enabled('customer');
    // A customer whose readings go past the day but whose intervals do not is only waiting for the
    // recorder to catch up (a backlog is built in slices): judge the day once that is done.
    if (customers.some((m) => !complete(m.key) && (latestReading(this.d.db, m.key)?.ts ?? 0) >= to)) return undefined;
    return {
      day,
      mainKWh: net(main.key),
      customersKWh: customers.reduce((s, m) => s + net(m.key), 0),
      customersIncomplete: customers.filter((m) => !complete(m.key)).map((m) => m.key),
    };
  }

  private async disk(): Promise<Finding | undefined> {
    if (this.d.db.memory) return undefined;
    const dir = path.dirname(path.resolve(this.d.db.name));
    try {
      return diskFinding(await this.d.diskProbe(dir), dir, this.d.config.alarms.diskFreeMinShare);
    } catch (e) {
      this.d.onError(`disk probe of ${dir}`, e);
      return undefined;
    }
  }
}
