import type { z } from '#zod';
import { describeValidation, sentenceErrorMap } from '../api/validation-errors.js';
import type { Refusal } from './request-ids.js';

/** What the site answers on `<prefix>/<site>/res/<requestId>` (docs/uplink.md, "Commands"). */
export type Answer =
  | { readonly requestId: string; readonly phase: 'ack'; readonly status: 'accepted'; readonly type: string; readonly user: string; readonly at: number }
  | { readonly requestId: string; readonly phase: 'ack'; readonly status: 'refused'; readonly field: string; readonly reason: string; readonly at: number }
  | { readonly requestId: string; readonly phase: 'result'; readonly status: 'done'; readonly result: unknown; readonly at: number }
  | { readonly requestId: string; readonly phase: 'result'; readonly status: 'failed'; readonly reason: string; readonly at: number };

const MAX_REASON = 1000;

/** A reason short enough for an answer and an audit entry. */
export const bounded = (s: string): string => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 3)}...` : s);

/**
 * Parses a payload: bounded in size before JSON.parse, then the schema, with zod's findings as
 * sentences naming the field (`command.minutes: must be at most 1440; found 5000`).
 */
export function parsePayload<S extends z.ZodType>(
  payload: Buffer,
  maxBytes: number,
  schema: S,
): { ok: true; value: z.output<S>; raw: unknown } | { ok: false; refusal: Refusal; raw: unknown } {
  if (payload.length > maxBytes)
    return {
      ok: false,
      raw: undefined,
      refusal: { field: 'payload', reason: `payload: ${payload.length} bytes, at most ${maxBytes} (uplink.commands.maxBytes); send a smaller command` },
    };
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, raw: undefined, refusal: { field: 'payload', reason: `payload: not JSON (${(e as Error).message}); send a JSON object` } };
  }
  const r = schema.safeParse(raw, { error: sentenceErrorMap });
  if (r.success) return { ok: true, value: r.data, raw };
  const d = describeValidation('payload', r.error, raw);
  return { ok: false, raw, refusal: { field: d.issues[0]?.field ?? 'payload', reason: bounded(d.error) } };
}
