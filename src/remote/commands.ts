import { roleAllows } from '../auth/roles.js';
import type { User } from '../auth/user-store.js';
import { ControlError, type ControlRuntime } from '../edge/control-runtime.js';
import { ApprovalError, approvalSourceOf, type ApprovalSource } from '../governance/approvals.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { Clock } from '../util/clock.js';
import { MeterChangeError, type MeterManager } from '../commissioning/meter-manager.js';
import { bounded, parsePayload, type Answer } from './answers.js';
import { COMMAND_ROLE, commandEnvelopeSchema, desiredEnvelopeSchema, requestIdSchema, type Command } from './command-schema.js';
import type { Refusal, RequestIds } from './request-ids.js';
import { checkControllers, type DeviceTwin } from './twin.js';

export interface CommandDeps {
  /** Session tokens checked like `Authorization: Bearer` (src/auth: stored only as hashes). */
  readonly users: { userForToken(token: string): User | null };
  readonly control: ControlRuntime | null;
  /** Adds meters while the site runs (the function POST /api/meters calls). */
  readonly meters: Pick<MeterManager, 'add'>;
  /** The one approvals queue's sources, as POST /api/approvals/:id/approve uses them. */
  readonly approvals: readonly ApprovalSource[];
  readonly audit: AuditLog;
  readonly ids: RequestIds;
  readonly twin: DeviceTwin;
  readonly clock: Clock;
  readonly version: string;
  readonly maxBytes: number;
  /** Sends an answer on `res/<requestId>`; true once the broker has it (PUBACK). */
  readonly reply: (a: Answer) => Promise<boolean>;
  /** The twin's reported state changed: publish it. */
  readonly reportedChanged: () => void;
  /** Asks the process to close and start again (the path `mgos start` takes after a store move). */
  readonly restart: (why: string) => void;
}

/** A refusal of a message whose request id could not be read is answered under this id. */
export const INVALID_REQUEST_ID = 'invalid';

class Failed extends Error {}

const NO_CONTROL = 'the site has no control section (control: in the site file)';

/**
 * Remote commands (issue 12 item 3): each is read (bounded, zod), checked against replays (request id,
 * time window), authenticated by a site user's session token, checked for the role its HTTP route
 * needs, acknowledged, carried out by the same function the HTTP route calls (so governance and the
 * audit of the action itself are exactly those of a UI action), answered with its result, and audited
 * with its request id in the hash-chained log.
 */
export class CommandProcessor {
  private readonly anonymous = new AnonymousRefusals();

  constructor(private readonly d: CommandDeps) {}

  /** A message on `cmd/<requestId>`. */
  async command(topicId: string, payload: Buffer): Promise<void> {
    const rid = requestIdSchema.safeParse(topicId);
    if (!rid.success) {
      await this.refuse(INVALID_REQUEST_ID, null, {
        field: 'requestId',
        reason: `requestId: "${topicId.slice(0, 80)}" ${rid.error.issues[0]?.message ?? 'is not valid'}; publish on cmd/<requestId>`,
      });
      return;
    }
    const requestId = rid.data;
    const p = parsePayload(payload, this.d.maxBytes, commandEnvelopeSchema);
    if (!p.ok) return this.refuse(requestId, null, p.refusal);
    const env = p.value;
    const who = this.authorise(requestId, env.issuedAt, env.auth.token, env.command.type);
    if (!who.ok) return this.refuse(requestId, env.command.type, who.refusal, who.user?.username);
    const c = env.command;
    if (c.type === 'config' && c.version <= this.d.twin.lastVersion()) {
      return this.refuse(requestId, 'config', {
        field: 'command.version',
        reason: `command.version: ${c.version} is not newer than ${this.d.twin.lastVersion()}, the newest this site has processed; send a higher version`,
      });
    }
    // A controller list is checked before the acknowledgement: one that would not be taken is refused, naming its field.
    const bad =
      c.type === 'mode'
        ? checkControllers(this.d.control, c.controllers, 'command.controllers')
        : c.type === 'config'
          ? checkControllers(this.d.control, c.config.controllers, 'command.config.controllers')
          : null;
    if (bad) {
      this.d.ids.take(requestId);
      if (c.type === 'config') {
        this.d.twin.refuse(c.version, c.config, requestId, who.user.username, bad);
        this.d.reportedChanged();
      }
      return this.refuse(requestId, c.type, bad, who.user.username);
    }
    this.d.ids.take(requestId);
    void this.d.reply({ requestId, phase: 'ack', status: 'accepted', type: c.type, user: who.user.username, at: this.d.clock() });
    await this.run(requestId, c, who.user.username);
  }

  /** The retained desired configuration on `twin/desired`. A version already processed is a re-delivery: ignored. */
  async desired(payload: Buffer): Promise<void> {
    const p = parsePayload(payload, this.d.maxBytes, desiredEnvelopeSchema);
    if (!p.ok) {
      this.d.twin.noteProblem(p.refusal);
      this.d.reportedChanged();
      const raw = p.raw as { requestId?: unknown } | undefined;
      const rid = requestIdSchema.safeParse(raw?.requestId);
      return this.refuse(rid.success ? rid.data : INVALID_REQUEST_ID, 'desired', p.refusal);
    }
    const env = p.value;
    if (env.version <= this.d.twin.lastVersion()) return;
    // Retained, so it may be old when it arrives: its version, not the time window, stops replays.
    const who = this.authorise(env.requestId, null, env.auth.token, 'config');
    if (!who.ok) {
      this.d.twin.noteProblem(who.refusal);
      this.d.reportedChanged();
      return this.refuse(env.requestId, 'desired', who.refusal, who.user?.username);
    }
    this.d.ids.take(env.requestId);
    const bad = checkControllers(this.d.control, env.config.controllers, 'config.controllers');
    if (bad) {
      this.d.twin.refuse(env.version, env.config, env.requestId, who.user.username, bad);
      this.d.reportedChanged();
      return this.refuse(env.requestId, 'desired', bad, who.user.username);
    }
    void this.d.reply({ requestId: env.requestId, phase: 'ack', status: 'accepted', type: 'config', user: who.user.username, at: this.d.clock() });
    await this.run(env.requestId, { type: 'config', version: env.version, config: env.config }, who.user.username);
  }

  private authorise(
    requestId: string,
    issuedAt: number | null,
    token: string,
    type: Command['type'],
  ): { ok: true; user: User } | { ok: false; refusal: Refusal; user?: User } {
    const replay = this.d.ids.check(requestId, issuedAt);
    if (replay) return { ok: false, refusal: replay };
    const user = this.d.users.userForToken(token);
    if (!user)
      return {
        ok: false,
        refusal: {
          field: 'auth.token',
          reason: 'auth.token: no session has this token (expired, logged out or never issued); log in (POST /api/login) and send the new token',
        },
      };
    const needed = COMMAND_ROLE[type];
    if (!roleAllows(user.role, needed))
      return {
        ok: false,
        refusal: { field: 'auth.token', reason: `auth.token: ${user.username} has the role ${user.role}; ${type} needs ${needed} or above` },
        user,
      };
    return { ok: true, user };
  }

  /** `by`: the user when the token was accepted (the refusal is then theirs in the audit log). */
  private async refuse(requestId: string, type: string | null, r: Refusal, by = 'remote'): Promise<void> {
    const at = this.d.clock();
    // Whoever may publish to the broker can send refusals by the thousand: those of no known user are answered and
    // audited up to a rate, and the rest counted into the next entry, so a flood neither fills the disk nor the link.
    let also = '';
    if (by === 'remote') {
      const left = this.anonymous.take(at);
      if (left === null) return;
      if (left > 0) also = ` (and ${left} more refused without an answer or an audit entry in the minute before)`;
    }
    this.d.audit.append({
      ts: at,
      actor: by,
      action: 'remote-refused',
      detail: bounded(`request ${requestId}${type ? ` (${type})` : ''}: ${r.reason}${also}`),
    });
    await this.d.reply({ requestId, phase: 'ack', status: 'refused', field: r.field, reason: r.reason, at });
  }

  private async run(requestId: string, c: Command, by: string): Promise<void> {
    let answer: Answer;
    try {
      const result = await this.execute(requestId, c, by);
      answer = { requestId, phase: 'result', status: 'done', result, at: this.d.clock() };
      this.d.audit.append({ ts: answer.at, actor: by, action: 'remote-done', detail: bounded(`request ${requestId} (${c.type}) done`) });
    } catch (e) {
      if (!(e instanceof Failed || e instanceof ControlError || e instanceof ApprovalError)) throw e;
      answer = { requestId, phase: 'result', status: 'failed', reason: bounded(e.message), at: this.d.clock() };
      this.d.audit.append({ ts: answer.at, actor: by, action: 'remote-failed', detail: bounded(`request ${requestId} (${c.type}) failed: ${e.message}`) });
    }
    if (c.type === 'mode' || c.type === 'config' || c.type === 'state') this.d.reportedChanged();
    const delivered = await this.d.reply(answer);
    // Restart only once the answer is with the broker (or could not be sent): the cloud learns it was taken.
    if (c.type === 'restart' && answer.status === 'done')
      this.d.restart(`remote request ${requestId} by ${by}: ${c.reason}${delivered ? '' : ' (answer not delivered)'}`);
  }

  private control(): ControlRuntime {
    if (!this.d.control) throw new Failed(`${NO_CONTROL}; this command steers the edge cycle`);
    return this.d.control;
  }

  private async execute(requestId: string, c: Command, by: string): Promise<unknown> {
    const why = (reason: string): string => `${reason} (remote request ${requestId})`;
    switch (c.type) {
      case 'ping':
        return { pong: true, now: this.d.clock(), version: this.d.version, user: by };
      case 'mode': {
        const control = this.control();
        control.setMode(c.controllers, by, why(c.reason));
        return { controllers: control.controllerConfigList() };
      }
      case 'override':
        return { override: this.control().override({ asset: c.asset, setpoint: c.setpoint, mode: c.mode, minutes: c.minutes, reason: why(c.reason) }, by) };
      case 'release-override':
        if (!this.control().releaseOverride(c.asset, by, why(c.reason))) throw new Failed(`asset: ${c.asset} has no override`);
        return { asset: c.asset, released: true };
      case 'approve': {
        const { src, n } = approvalSourceOf(this.d.approvals, c.id);
        return { proposal: await src.approve(n, by) };
      }
      case 'reject': {
        const { src, n } = approvalSourceOf(this.d.approvals, c.id);
        return { proposal: await src.reject(n, by, why(c.reason)) };
      }
      case 'config': {
        const r = this.d.twin.apply(c.version, c.config, requestId, by);
        if (!r.ok) throw new Failed(r.reason);
        return { version: c.version, controllers: r.controllers };
      }
      case 'restart':
        return { restarting: true };
      case 'state': {
        const control = this.control();
        const enabled = c.state === 'running';
        const what = enabled ? 'running: every controller acts' : 'idle: measuring and recording, no controller acts';
        control.setMode(
          control.controllerConfigList().map((x) => ({ ...x, enabled })),
          by,
          why(`${what}; ${c.reason}`),
        );
        return { state: c.state, controllers: control.controllerConfigList() };
      }
      case 'setup-device':
        try {
          const { meter, version } = await this.d.meters.add(c.meter, by, why(c.reason));
          return { meter: { id: meter.id, name: meter.name, type: meter.type, bus: meter.bus, enabled: meter.enabled }, configVersion: version.version };
        } catch (e) {
          if (e instanceof MeterChangeError) throw new Failed(e.message);
          throw e;
        }
    }
  }
}

/** Refusals of no known user answered and audited per minute; beyond it they are only counted. */
export const ANONYMOUS_REFUSALS_PER_MINUTE = 10;

/** A fixed one-minute window over the refusals of senders that no token identified. */
class AnonymousRefusals {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private suppressed = 0;

  /** Null when this one is over the rate (counted); otherwise how many were counted since the last one let through. */
  take(at: number): number | null {
    if (at - this.windowStart >= 60_000) {
      this.windowStart = at;
      this.inWindow = 0;
    }
    if (this.inWindow >= ANONYMOUS_REFUSALS_PER_MINUTE) {
      this.suppressed++;
      return null;
    }
    this.inWindow++;
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}
