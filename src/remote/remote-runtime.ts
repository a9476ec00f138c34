import type Database from 'better-sqlite3';
import type { User } from '../auth/user-store.js';
import type { ControlRuntime } from '../edge/control-runtime.js';
import type { ApprovalSource } from '../governance/approvals.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { Uplink } from '../uplink/uplink.js';
import type { UplinkConfig } from '../uplink/uplink-config.js';
import type { Clock } from '../util/clock.js';
import type { Answer } from './answers.js';
import { CommandProcessor, type CommandDeps } from './commands.js';
import { RequestIds } from './request-ids.js';
import { DeviceTwin } from './twin.js';
import { TwinStore } from './twin-store.js';

export interface StartRemoteOptions {
  readonly uplink: Pick<Uplink, 'listen' | 'publishTo'>;
  readonly config: UplinkConfig['commands'];
  readonly db: Database.Database;
  readonly users: { userForToken(token: string): User | null };
  readonly control: ControlRuntime | null;
  readonly meters: CommandDeps['meters'];
  readonly approvals: readonly ApprovalSource[];
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly version: string;
  readonly restart: (why: string) => void;
  /** Runs `fn` every `ms` (the system's scheduler); returns the stop. */
  readonly every: (name: string, ms: number, fn: () => void) => () => unknown;
  readonly log?: (msg: string) => void;
}

export interface RunningRemote {
  readonly twin: DeviceTwin;
  stop(): void;
}

/** How often a mode change made elsewhere (UI, SCADA) is looked for, to publish the reported configuration. */
const REPORT_CHECK_MS = 5000;

/**
 * Remote commands and the device twin on the uplink's MQTT connection (docs/uplink.md, "Commands"):
 * subscribes `cmd/+` and `twin/desired`, handles one message at a time in arrival order, answers on
 * `res/<requestId>` and publishes `twin/reported` (retained) on every connection and every change.
 */
export function startRemote(o: StartRemoteOptions): RunningRemote {
  const twin = new DeviceTwin({ store: new TwinStore(o.db), control: o.control, clock: o.clock, log: o.log });
  twin.restore();
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  let published: readonly unknown[] | null | undefined;
  const publishReported = (): void => {
    published = twin.inForce();
    void o.uplink.publishTo('twin/reported', json(twin.reported()), { retain: true, contentType: 'application/json' });
  };
  const processor = new CommandProcessor({
    users: o.users,
    control: o.control,
    meters: o.meters,
    approvals: o.approvals,
    audit: o.audit,
    ids: new RequestIds(o.db, { maxSkewMs: o.config.maxSkewMs, remember: o.config.rememberIds, clock: o.clock }),
    twin,
    clock: o.clock,
    version: o.version,
    maxBytes: o.config.maxBytes,
    reply: (a: Answer) => o.uplink.publishTo(`res/${a.requestId}`, json(a), { retain: false, contentType: 'application/json' }),
    reportedChanged: publishReported,
    restart: o.restart,
  });
  // One message at a time: answers go out in the order the commands came.
  let chain = Promise.resolve();
  const enqueue = (fn: () => Promise<void>): void => {
    chain = chain.then(fn).catch((err: unknown) => o.log?.(`remote: a command could not be handled: ${(err as Error).message}`));
  };
  o.uplink.listen({
    filters: ['cmd/+', 'twin/desired'],
    onMessage: (subtopic, payload) => {
      if (subtopic === 'twin/desired') enqueue(() => processor.desired(payload));
      else if (subtopic.startsWith('cmd/')) enqueue(() => processor.command(subtopic.slice(4), payload));
    },
    onConnected: publishReported,
  });
  const stopCheck = o.every('remote twin report', REPORT_CHECK_MS, () => {
    if (published !== undefined && twin.inForce() !== published) publishReported();
  });
  return {
    twin,
    stop: () => {
      void stopCheck();
    },
  };
}
