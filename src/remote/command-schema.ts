import { z } from '#zod';
import { asset, modeBody, overrideFields, reason, setpointOrMode } from '../edge/routes.js';
import { approvalId } from '../governance/approvals.js';
import { meterSchema } from '../config/site-config.js';
import type { Role } from '../auth/roles.js';

/**
 * What a remote command looks like on the wire (docs/uplink.md, "Commands"). The bodies are the HTTP
 * routes' own schemas, so a command is checked exactly like the same action from the UI.
 */

/** A request id: one MQTT topic level, so no wildcards, no slashes; bounded. */
export const requestIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a request id of 1-64 letters, digits, _ . or -');

/** A session token of a site user (POST /api/login returns one), as scripts send it in Authorization: Bearer. */
const auth = z.object({ token: z.string().min(16, 'a session token from POST /api/login').max(256) }).strict();

/** ms since 1970 on the sender's clock; checked against the site's clock within uplink.commands.maxSkewMs. */
const issuedAt = z.number().int().min(0).max(8_640_000_000_000_000);

/** The twin's desired configuration: what the cloud wants in force (docs/uplink.md, "Device twin"). */
export const twinConfigSchema = z
  .object({
    /** The edge cycle's controllers, the whole list as in control.controllers (the same as POST /api/control/mode). */
    controllers: modeBody.shape.controllers,
  })
  .strict();
export type TwinConfig = z.output<typeof twinConfigSchema>;

const desiredVersion = z.number().int().min(1).max(2_147_483_647);

export const commandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }).strict(),
  z.object({ type: z.literal('mode'), ...modeBody.shape }).strict(),
  z
    .object({ type: z.literal('override'), ...overrideFields })
    .strict()
    .refine(...setpointOrMode),
  z.object({ type: z.literal('release-override'), asset, reason }).strict(),
  z.object({ type: z.literal('approve'), id: approvalId }).strict(),
  z.object({ type: z.literal('reject'), id: approvalId, reason }).strict(),
  z.object({ type: z.literal('config'), version: desiredVersion, config: twinConfigSchema }).strict(),
  z.object({ type: z.literal('restart'), reason }).strict(),
  // The seed's GoToState_Idling / GoToState_Running: idle keeps measuring and recording but no controller acts.
  z.object({ type: z.literal('state'), state: z.enum(['idle', 'running']), reason }).strict(),
  // The seed's Setup_Device: a meter added while the site runs, as POST /api/meters (verified within two polls, or rolled back).
  z.object({ type: z.literal('setup-device'), meter: meterSchema, reason }).strict(),
]);
export type Command = z.output<typeof commandSchema>;
export type CommandType = Command['type'];

/** The role each command needs: the same as its HTTP route (restart has none: installer, like the simulator's controls). */
export const COMMAND_ROLE: Readonly<Record<CommandType, Role>> = {
  ping: 'viewer',
  mode: 'operator',
  override: 'operator',
  'release-override': 'operator',
  approve: 'operator',
  reject: 'operator',
  config: 'operator',
  restart: 'installer',
  state: 'operator',
  'setup-device': 'installer',
};

/** `<prefix>/<site>/cmd/<requestId>`. */
export const commandEnvelopeSchema = z.object({ issuedAt, auth, command: commandSchema }).strict();
export type CommandEnvelope = z.output<typeof commandEnvelopeSchema>;

/** `<prefix>/<site>/twin/desired` (retained): carries its own request id; its version replaces the skew window. */
export const desiredEnvelopeSchema = z.object({ requestId: requestIdSchema, issuedAt, auth, version: desiredVersion, config: twinConfigSchema }).strict();
export type DesiredEnvelope = z.output<typeof desiredEnvelopeSchema>;
