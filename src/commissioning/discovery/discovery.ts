import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { MeterConfig } from '../../config/site-config.js';
import type { DeviceProfile } from '../../drivers/profile-schema.js';
import { meterKey } from '../../site/devices.js';
import type { SiteRuntime } from '../../site/site-runtime.js';
import { probeAddress } from './probe.js';

export interface ScanFinding {
  readonly address: number;
  readonly model: string | null;
  /** missing = configured at this address but silent during the scan (dead, unpowered, wrong address). */
  readonly status: 'known' | 'new' | 'duplicate' | 'unidentified' | 'missing';
  /** The configured meter at this address, if any. */
  readonly configuredAs: string | null;
  readonly detail: string;
}

export interface MeterProposal {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly bus: string;
  /** Set when the Modbus address differs from the proposed id. */
  readonly address?: number;
  readonly note: string;
}

export interface ScanState {
  readonly id: string;
  readonly bus: string;
  readonly from: number;
  readonly to: number;
  state: 'running' | 'done' | 'cancelled' | 'failed';
  scanned: number;
  readonly total: number;
  readonly found: ScanFinding[];
  readonly proposals: MeterProposal[];
  readonly by: string;
  readonly startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

export interface DiscoveryDeps {
  readonly site: SiteRuntime;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  /** The meters configured now (they change while the system runs). */
  readonly meters: () => readonly MeterConfig[];
  /** Reasons an address does not fit the address plan, or null. */
  readonly checkAddress?: (bus: string, phases: 1 | 3, address: number) => string | null;
  readonly timeoutMs?: number;
}

const KEEP_SCANS = 20;

/**
 * Scans a bus address by address for responding meters, identifies their model, flags replies that
 * collide, and proposes configuration entries for meters not yet configured. Probes run at
 * background priority and only between poll cycles, so live polling keeps its cycle.
 */
export class Discovery {
  private readonly scans = new Map<string, ScanState>();
  private readonly cancelled = new Set<string>();
  private readonly events = new EventEmitter();

  constructor(private readonly d: DiscoveryDeps) {}

  start(busId: string, from: number, to: number, by: string): ScanState {
    const bus = this.d.site.bus(busId);
    if (!bus)
      throw new Error(
        `bus: no bus "${busId}"; buses: ${this.d.site
          .busViews()
          .map((b) => b.id)
          .join(', ')}`,
      );
    if (from < 1 || to > 247 || from > to) throw new Error('range: addresses run from 1 to 247 and from must not exceed to');
    const running = [...this.scans.values()].find((s) => s.bus === busId && s.state === 'running');
    if (running) throw new Error(`bus ${busId} is already being scanned (scan ${running.id}); cancel it or wait`);
    const scan: ScanState = {
      id: randomUUID(),
      bus: busId,
      from,
      to,
      state: 'running',
      scanned: 0,
      total: to - from + 1,
      found: [],
      proposals: [],
      by,
      startedAt: this.d.site.now(),
      finishedAt: null,
      error: null,
    };
    this.scans.set(scan.id, scan);
    this.trim();
    void this.run(scan);
    return scan;
  }

  get(id: string): ScanState | undefined {
    return this.scans.get(id);
  }

  list(): ScanState[] {
    return [...this.scans.values()].reverse();
  }

  cancel(id: string): boolean {
    const s = this.scans.get(id);
    if (!s || s.state !== 'running') return false;
    this.cancelled.add(id);
    return true;
  }

  subscribe(listener: (s: ScanState) => void): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  /** Resolves when the scan has finished (tests, the CLI). */
  finished(id: string): Promise<ScanState> {
    return new Promise((resolve, reject) => {
      const s = this.scans.get(id);
      if (!s) {
        reject(new Error(`no scan ${id}`));
        return;
      }
      if (s.state !== 'running') {
        resolve(s);
        return;
      }
      const off = this.subscribe((x) => {
        if (x.id === id && x.state !== 'running') {
          off();
          resolve(x);
        }
      });
    });
  }

  private async run(scan: ScanState): Promise<void> {
    const bus = this.d.site.bus(scan.bus);
    const profiles = [...this.d.profiles.values()];
    try {
      for (let address = scan.from; address <= scan.to; address++) {
        if (this.cancelled.has(scan.id) || !bus) {
          scan.state = 'cancelled';
          break;
        }
        const result = await probeAddress(bus, address, profiles, this.d.timeoutMs ?? 250);
        scan.scanned++;
        if (result.kind !== 'absent') this.record(scan, address, result);
        this.events.emit('progress', scan);
      }
      if (scan.state === 'running') {
        this.reportMissing(scan);
        scan.state = 'done';
      }
    } catch (e) {
      scan.state = 'failed';
      scan.error = (e as Error).message;
    }
    scan.finishedAt = this.d.site.now();
    this.cancelled.delete(scan.id);
    this.events.emit('progress', scan);
  }

  private record(scan: ScanState, address: number, result: Exclude<Awaited<ReturnType<typeof probeAddress>>, { kind: 'absent' }>): void {
    const configured = this.d.meters().find((m) => (m.bus ?? this.d.site.busViews()[0]?.id) === scan.bus && (m.address ?? m.id) === address);
    const configuredAs = configured ? meterKey(configured) : null;
    if (result.kind === 'garbled') {
      scan.found.push({ address, model: null, status: 'duplicate', configuredAs, detail: result.detail });
      return;
    }
    if (result.kind === 'unidentified') {
      scan.found.push({ address, model: null, status: 'unidentified', configuredAs, detail: result.detail });
      return;
    }
    const profile = this.d.profiles.get(result.model.toUpperCase());
    const planProblem = profile ? this.d.checkAddress?.(scan.bus, profile.phases, address) : null;
    if (configured) {
      scan.found.push({ address, model: result.model, status: 'known', configuredAs, detail: result.detail });
      return;
    }
    scan.found.push({
      address,
      model: result.model,
      status: 'new',
      configuredAs: null,
      detail: planProblem ? `${result.detail}; note: ${planProblem}` : result.detail,
    });
    const idTaken = this.d.meters().some((m) => m.id === address);
    scan.proposals.push({
      id: idTaken ? this.freeId() : address,
      name: `meter_${String(address).padStart(3, '0')}`,
      type: result.model,
      bus: scan.bus,
      ...(idTaken ? { address } : {}),
      note: idTaken ? `id ${address} is used on another bus; address: ${address} is set on the entry` : 'new meter on the bus',
    });
  }

  private reportMissing(scan: ScanState): void {
    const defaultBus = this.d.site.busViews()[0]?.id;
    const seen = new Set(scan.found.map((f) => f.address));
    for (const m of this.d.meters()) {
      const address = m.address ?? m.id;
      if ((m.bus ?? defaultBus) !== scan.bus || address < scan.from || address > scan.to || seen.has(address)) continue;
      scan.found.push({ address, model: null, status: 'missing', configuredAs: meterKey(m), detail: `configured as ${m.name} (${m.type}) but did not answer` });
    }
    scan.found.sort((a, b) => a.address - b.address);
  }

  private freeId(): number {
    const used = new Set(this.d.meters().map((m) => m.id));
    for (let id = 2; id <= 247; id++) if (!used.has(id)) return id;
    return 247;
  }

  private trim(): void {
    const done = [...this.scans.values()].filter((s) => s.state !== 'running');
    for (const s of done.slice(0, Math.max(0, this.scans.size - KEEP_SCANS))) this.scans.delete(s.id);
  }
}
