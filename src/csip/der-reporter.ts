import { capabilityXml, settingsXml, statusXml, type DerReport } from './der-reports.js';
import type { DER } from './resources.js';

/**
 * When the client PUTs its DER reports (issue 11 item 4, CACTUS ALL-15, ALL-16, STO-05): capability,
 * settings and status at every read of the DERList (the server's view is refreshed at its own poll
 * rate, so a server that lost or reset a DER's capability has it again within one DERList period), and
 * besides, settings and status as soon as what they report changes (the DER disconnected, stopped
 * operating, a setting changed), at most once per `minSpacingMs` per DER so a flapping value never
 * floods the server. Bodies are compared without their timestamps.
 */

/** A PUT to the server; throws when the server is not reached or does not accept it (2xx). */
export type Put = (href: string, body: string) => Promise<void>;

/** Settings and status of one DER at most this often when they change between DERList reads. */
export const MIN_CHANGE_SPACING_MS = 5000;

interface Last {
  /** Settings and status as reported, timestamps left out. */
  readonly key: string;
  readonly atMs: number;
}

export class DerReporter {
  /** The server's DER resources as last read from the DERList, in its order. */
  private resources: readonly DER[] = [];
  /** By DER index: what was last reported and when (a failed PUT counts, so retries keep the spacing). */
  private readonly last = new Map<number, Last>();
  /** When a change seen but held back by the spacing may go out (ms on the clock), Infinity when none. */
  private heldUntilMs = Infinity;

  constructor(
    private readonly reports: () => readonly (DerReport | undefined)[],
    private readonly put: Put,
    private readonly minSpacingMs = MIN_CHANGE_SPACING_MS,
  ) {}

  /** At a read of the DERList: every DER's capability, settings and status. Throws on a refusal. */
  async onList(ders: readonly DER[], nowMs: number, nowS: number): Promise<void> {
    this.resources = ders;
    const reports = this.reports();
    for (const [i, der] of ders.entries()) {
      const r = reports[i];
      // Not known yet (e.g. a device not read): nothing is made up; the next read tries again.
      if (r === undefined) continue;
      if (der.DERCapabilityLink) await this.put(der.DERCapabilityLink.href, capabilityXml(r.capability));
      await this.putSettingsAndStatus(i, der, r, nowMs, nowS);
    }
  }

  /** Between DERList reads: settings and status of each DER whose reported values changed, spacing allowing. */
  async onTick(nowMs: number, nowS: number): Promise<void> {
    if (this.resources.length === 0) return;
    const reports = this.reports();
    this.heldUntilMs = Infinity;
    for (const [i, der] of this.resources.entries()) {
      const r = reports[i];
      const last = this.last.get(i);
      // Never reported (the DERList read does that first) or unchanged: nothing to say.
      if (r === undefined || last === undefined || last.key === '' || last.key === keyOf(r)) continue;
      if (nowMs - last.atMs < this.minSpacingMs) {
        this.heldUntilMs = Math.min(this.heldUntilMs, last.atMs + this.minSpacingMs);
        continue;
      }
      await this.putSettingsAndStatus(i, der, r, nowMs, nowS);
    }
  }

  /** When a held-back change report falls due (ms), Infinity when none. */
  nextDueMs(): number {
    return this.heldUntilMs;
  }

  private async putSettingsAndStatus(i: number, der: DER, r: DerReport, nowMs: number, nowS: number): Promise<void> {
    // A failure keeps the old key, so the change is tried again once the spacing has passed.
    this.last.set(i, { key: this.last.get(i)?.key ?? '', atMs: nowMs });
    // Both go out together (CACTUS expects settings and status after a change).
    if (der.DERSettingsLink) await this.put(der.DERSettingsLink.href, settingsXml(r.settings, nowS));
    if (der.DERStatusLink) await this.put(der.DERStatusLink.href, statusXml(r.status, nowS));
    this.last.set(i, { key: keyOf(r), atMs: nowMs });
  }
}

/** Settings and status without their timestamps: what changed, not when it was written. */
function keyOf(r: DerReport): string {
  return settingsXml(r.settings, 0) + statusXml(r.status, 0);
}
