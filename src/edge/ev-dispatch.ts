import type { Clock } from '../util/clock.js';
import type { EvCharger } from './capabilities.js';
import type { DispatchState } from './dispatch.js';

/**
 * Dispatch of EV charging limits through the OCPP central system (docs/ocpp.md "Smart charging").
 * Each write is a SetChargingProfile round trip to the charger, and real chargers dislike profiles
 * that change all the time, so a limit is written only when it means something new:
 * - it is quantised to whole amps per phase; under the charger's minimum current (6 A) it is 0, a pause;
 * - it is written the first time, after the charger reconnects, when its transaction changes (a
 *   TxProfile belongs to one transaction), when it pauses or resumes charging, and when it moved by at
 *   least `minStepA` (1 A by default); otherwise the charger keeps the profile it has.
 * One queue per charger, latest value wins, never awaited by the cycle (like DispatchQueue).
 */
export interface EvChargerPort {
  /** The charger's channels go to this component (the asset's name). */
  bindComponent(chargerId: string, component: string): void;
  isConnected(chargerId: string): boolean;
  /** The charger's running transaction, or null. */
  transactionOf(chargerId: string): number | null;
  /** Sends the profile; resolves with the charger's answer (Accepted, Rejected, NotSupported). */
  setChargerLimitW(chargerId: string, watts: number | null): Promise<string>;
}

export interface EvLimit {
  readonly amps: number;
  readonly watts: number;
}

/** The limit a charger is told: whole amps, 0 under the minimum current, at most its rating. */
export function quantiseEvLimit(w: number, ev: Pick<EvCharger, 'voltageV' | 'phases' | 'minCurrentA' | 'maxW'>): EvLimit {
  const perAmp = ev.voltageV * ev.phases;
  const maxA = Math.floor(ev.maxW / perAmp + 1e-9);
  const amps = Math.min(maxA, Math.floor(Math.max(0, Number.isFinite(w) ? w : 0) / perAmp + 1e-9));
  const a = amps < ev.minCurrentA ? 0 : amps;
  return { amps: a, watts: a * perAmp };
}

export interface EvWritten {
  readonly amps: number;
  readonly transactionId: number | null;
}

/** Why a new limit must be written, or null when the charger's present profile still says it. */
export function evWriteReason(last: EvWritten | undefined, next: EvWritten, minStepA = 1): string | null {
  if (!last) return 'first limit since the charger connected';
  if (last.transactionId !== next.transactionId) return next.transactionId === null ? 'the transaction ended' : `transaction ${next.transactionId} started`;
  if ((last.amps === 0) !== (next.amps === 0)) return next.amps === 0 ? 'pause' : 'resume';
  if (Math.abs(last.amps - next.amps) >= minStepA) return `${last.amps} A -> ${next.amps} A`;
  return null;
}

export class EvLimitQueue {
  private last: EvWritten | undefined;
  private pending: { limit: EvLimit; tx: number | null } | null = null;
  private busy = false;
  private closed = false;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private writes = 0;

  constructor(
    private readonly ev: EvCharger,
    private readonly port: EvChargerPort,
    private readonly clock: Clock,
    private readonly o: {
      minStepA?: number;
      onError?: (channel: string, value: number, err: Error) => void;
      onWritten?: (channel: string, value: number) => void;
    } = {},
  ) {}

  get device(): string {
    return this.ev.component;
  }

  /** Queues the limit the cycle decided (W). */
  set(watts: number): void {
    if (this.closed) return;
    if (!this.port.isConnected(this.ev.chargerId)) {
      this.last = undefined; // written again when it comes back: it may have rebooted without its profiles
      return;
    }
    const limit = quantiseEvLimit(watts, this.ev);
    const tx = this.port.transactionOf(this.ev.chargerId);
    if (!this.pending && evWriteReason(this.last, { amps: limit.amps, transactionId: tx }, this.o.minStepA) === null) return;
    this.pending = { limit, tx };
    if (!this.busy) void this.drain();
  }

  state(): DispatchState {
    return {
      device: this.ev.component,
      pending: this.pending ? 1 : 0,
      busy: this.busy,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      writes: this.writes,
      written: this.last ? { ChargeLimitW: this.last.amps * this.ev.voltageV * this.ev.phases } : {},
    };
  }

  close(): void {
    this.closed = true;
    this.pending = null;
  }

  async idle(): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.pending && !this.closed) {
        const { limit, tx } = this.pending;
        this.pending = null;
        const channel = `${this.ev.component}/ChargeLimitW`;
        try {
          const answer = await this.port.setChargerLimitW(this.ev.chargerId, limit.watts);
          // A refused profile is remembered too: asking again each cycle would not change the answer.
          this.last = { amps: limit.amps, transactionId: tx };
          this.writes++;
          if (answer !== 'Accepted') throw new Error(`the charger answered ${answer}`);
          this.o.onWritten?.(channel, limit.watts);
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.lastError = `${channel} = ${limit.watts}: ${err.message}`;
          this.lastErrorAt = this.clock();
          this.o.onError?.(channel, limit.watts, err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
