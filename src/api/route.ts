import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from '#zod';
import { roleAllows, type Role } from '../auth/roles.js';
import type { User, UserStore } from '../auth/user-store.js';
import { describeValidation, sentenceErrorMap, type FieldIssue } from './validation-errors.js';

export const SESSION_COOKIE = 'mgos_session';

/** One API operation: its schemas are both the runtime validation and the OpenAPI document. */
export interface RouteSpec<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly summary: string;
  /** null = public (login); otherwise the least role that may call it. */
  readonly role: Role | null;
  readonly query?: Q;
  readonly params?: P;
  readonly body?: B;
  readonly produces?: string;
  /**
   * Called by outside parties that hold no session (payment provider callbacks): exempt from the
   * same-origin and content-type checks that protect cookie sessions (see request-guard.ts).
   */
  readonly public?: boolean;
  /** Content types a browser may send to this route; application/json when not given (see request-guard.ts). */
  readonly consumes?: readonly string[];
  readonly handler: (ctx: {
    query: z.output<Q>;
    params: z.output<P>;
    body: z.output<B>;
    user: User | null;
    req: FastifyRequest;
    reply: FastifyReply;
  }) => unknown;
}

/** Another source of live events for /api/stream (scan progress, alarms, ...); the server's stream-route.ts sends them. */
export interface StreamSource {
  readonly event: string;
  subscribe(send: (data: unknown) => void): () => void;
}

export interface DocumentedRoute {
  readonly method: string;
  readonly url: string;
  readonly summary: string;
  readonly role: Role | null;
  readonly query?: z.ZodType;
  readonly params?: z.ZodType;
  readonly body?: z.ZodType;
  readonly produces?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Per-field sentences of a validation failure, sent beside `error`. */
    readonly issues?: readonly FieldIssue[],
  ) {
    super(message);
  }
}

/** A zod failure as a 400 whose message names each field, what is allowed and what was found. */
export function validationHttpError(where: string, error: z.ZodError, data: unknown): HttpError {
  const v = describeValidation(where, error, data);
  return new HttpError(400, v.error, v.issues);
}

export function readSessionToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const cookie = req.headers.cookie ?? '';
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** Registers routes with validation at the edge and authorisation before any handler runs. */
export class RouteRegistry {
  readonly documented: DocumentedRoute[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly users: UserStore,
  ) {}

  add<Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<Q, P, B>): void {
    this.documented.push(spec);
    this.app.route({
      method: spec.method,
      url: spec.url,
      config: { public: spec.public ?? false, consumes: spec.consumes },
      handler: async (req, reply) => {
        const user = this.authenticate(req);
        if (spec.role !== null) {
          if (!user) throw new HttpError(401, 'log in first');
          if (!roleAllows(user.role, spec.role)) throw new HttpError(403, `this needs the ${spec.role} role; you are ${user.role}`);
        }
        const parse = (schema: z.ZodType | undefined, data: unknown, where: string): unknown => {
          if (!schema) return undefined;
          const r = schema.safeParse(data, { error: sentenceErrorMap });
          if (!r.success) throw validationHttpError(where, r.error, data);
          return r.data;
        };
        const query = parse(spec.query, req.query, 'query') as z.output<Q>;
        const params = parse(spec.params, req.params, 'path') as z.output<P>;
        const body = parse(spec.body, req.body ?? {}, 'body') as z.output<B>;
        return spec.handler({ query, params, body, user, req, reply });
      },
    });
  }

  private authenticate(req: FastifyRequest): User | null {
    const token = readSessionToken(req);
    return token ? this.users.userForToken(token) : null;
  }
}
