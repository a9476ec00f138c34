import type { SmsSender } from '../notifications/sms-sender.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { GovernanceGate } from './gate.js';

/** A change in a prepaid customer's credit, from the billing side; amounts already formatted. */
export interface CreditEvent {
  readonly customer: string;
  readonly balance: string;
  /** The payment that caused it, for the receipt (onPositive only). */
  readonly amount?: string;
}

/** The port billing implements: callbacks when credit runs low, reaches zero, or is positive again. */
export interface CreditEvents {
  onZero(cb: (e: CreditEvent) => void): void;
  onPositive(cb: (e: CreditEvent) => void): void;
  onLow(cb: (e: CreditEvent) => void): void;
}

export interface PrepaidCustomer {
  readonly id: string;
  readonly name: string;
  readonly phone: string;
  /** The meter whose relay supplies this customer. */
  readonly meter: number;
}

export interface PrepaidLoopDeps {
  readonly events: CreditEvents;
  readonly gate: GovernanceGate;
  readonly customer: (id: string) => PrepaidCustomer | undefined;
  readonly sms: Pick<SmsSender, 'notify'>;
  /** Where handling errors go (a relay that does not answer must not crash billing). */
  readonly onError?: (e: unknown) => void;
  /**
   * Whether the customer is still at (or below) zero credit now. Given, a disconnect refused because of a
   * no-disconnect window is proposed again by recheck() once the window opens; without it nothing is re-checked.
   */
  readonly stillAtZero?: (customer: string) => boolean;
  /**
   * After a disconnect proposal of a meter was rejected or failed at the relay, how long
   * the level check (ensureDisconnects) waits before proposing again (default 1 h). A new zero event does not wait.
   */
  readonly reproposeAfterMs?: number;
  readonly clock?: Clock;
}

/**
 * Credit events -> governance proposals -> relay, with the customer told by SMS. Events are handled
 * one at a time in arrival order, so a payment right after a zero balance cannot overtake it.
 */
export class PrepaidLoop {
  private tail: Promise<void> = Promise.resolve();
  /** Customers whose disconnect was refused by a no-disconnect window, with the balance of that zero event. */
  private readonly deferred = new Map<string, CreditEvent>();

  constructor(private readonly d: PrepaidLoopDeps) {}

  start(): void {
    this.d.events.onLow((e) => this.enqueue(() => this.low(e)));
    this.d.events.onZero((e) => this.enqueue(() => this.zero(e)));
    this.d.events.onPositive((e) => this.enqueue(() => this.positive(e)));
  }

  /** Resolves when every event received so far is handled (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Customers whose refused disconnect waits for the no-disconnect window to open (diagnostics, tests). */
  deferredCustomers(): string[] {
    return [...this.deferred.keys()];
  }

  /**
   * Periodic re-check (the runtime runs it on a timer): a disconnect refused during a night, weekend or
   * holiday is proposed again once the window is open, if the customer is still at zero credit and not
   * disconnected. Queued behind the credit events, so a payment received before it wins. Resolves with
   * the number of proposals made.
   */
  recheck(): Promise<number> {
    let made = 0;
    const run = async (): Promise<void> => {
      if (this.deferred.size === 0 || this.d.gate.disconnectBlackout() !== null) return;
      for (const [id, e] of [...this.deferred]) {
        const c = this.d.customer(id);
        if (!c || !(this.d.stillAtZero?.(id) ?? false) || this.d.gate.isDisconnected(c.meter)) {
          this.deferred.delete(id);
          continue;
        }
        const r = await this.zero({ ...e, customer: id });
        if (r) made++;
      }
    };
    const done = this.tail.then(run);
    this.tail = done.catch((e: unknown) => this.d.onError?.(e));
    return done.then(() => made);
  }

  /**
   * The level check, after every charging run: each customer given (credit at or below zero) whose supply
   * is on must have exactly one open disconnect proposal, whatever the history (created at zero, a
   * proposal rejected, expired or failed, a restart). Skipped: a customer the gate would refuse whatever
   * the time (hold, L1, protected), while a no-disconnect window is closed (recheck() owns those), and
   * within reproposeAfterMs of a proposal rejected by an operator or failed at the relay (an expired one
   * is replaced at once). Resolves with proposals made.
   */
  ensureDisconnects(atZero: readonly CreditEvent[]): Promise<number> {
    let made = 0;
    const quiet = this.d.reproposeAfterMs ?? 3600_000;
    const run = async (): Promise<void> => {
      if (atZero.length === 0 || this.d.gate.disconnectBlackout() !== null) return;
      this.d.gate.expireStale(); // an expired proposal is not open
      const now = (this.d.clock ?? systemClock)();
      for (const e of atZero) {
        const c = this.d.customer(e.customer);
        if (!c || this.d.gate.isDisconnected(c.meter) || this.d.gate.openProposal(c.meter, 'disconnect')) continue;
        if (this.d.gate.standingRefusal(c.id, c.meter) !== null) continue;
        const ended = this.d.gate.lastRejectedOrFailedDisconnectAt(c.meter);
        if (ended !== null && now - ended < quiet) continue;
        if (await this.zero(e)) made++;
      }
    };
    const done = this.tail.then(run);
    this.tail = done.catch((e: unknown) => this.d.onError?.(e));
    // The error went to onError through the tail; callers may fire and forget.
    return done.then(
      () => made,
      () => made,
    );
  }

  private enqueue(work: () => unknown): void {
    this.tail = this.tail
      .then(async () => {
        await work();
      })
      .catch((e: unknown) => this.d.onError?.(e));
  }

  private low(e: CreditEvent): void {
    const c = this.require(e.customer);
    this.d.sms.notify(c.phone, { kind: 'low-balance', name: c.name, balance: e.balance });
  }

  private async zero(e: CreditEvent): Promise<boolean> {
    const c = this.require(e.customer);
    // Level-triggered: a customer already disconnected, or with a disconnect waiting, gets nothing more.
    if (this.d.gate.isDisconnected(c.meter) || this.d.gate.openProposal(c.meter, 'disconnect')) return false;
    const r = await this.d.gate.propose({
      capability: 'disconnect',
      asset: { customer: c.id, meter: c.meter },
      reason: `prepaid balance ${e.balance}`,
      proposedBy: { kind: 'system' },
    });
    // A refusal for the time of day/week is only a postponement: recheck() proposes it again later.
    if (!r.created && r.windowClosed && this.d.stillAtZero) this.deferred.set(c.id, e);
    else this.deferred.delete(c.id);
    // Refused proposals are audited by the gate; the customer is warned only of a real prospect.
    const fresh = r.created && r.existing !== true;
    if (fresh) this.d.sms.notify(c.phone, { kind: 'disconnect-warning', name: c.name, balance: e.balance });
    return fresh;
  }

  private async positive(e: CreditEvent): Promise<void> {
    const c = this.require(e.customer);
    this.deferred.delete(c.id);
    if (e.amount) this.d.sms.notify(c.phone, { kind: 'receipt', name: c.name, amount: e.amount, balance: e.balance });
    this.d.gate.withdraw(c.meter, 'disconnect', `prepaid balance ${e.balance} after payment`);
    if (!this.d.gate.isDisconnected(c.meter)) return;
    const r = await this.d.gate.propose({
      capability: 'reconnect',
      asset: { customer: c.id, meter: c.meter },
      reason: `prepaid balance ${e.balance} after payment`,
      proposedBy: { kind: 'system' },
    });
    if (r.created && r.proposal.state === 'executed') this.d.sms.notify(c.phone, { kind: 'reconnect', name: c.name });
  }

  private require(id: string): PrepaidCustomer {
    const c = this.d.customer(id);
    if (!c) throw new Error(`credit event for unknown customer ${id}`);
    return c;
  }
}
