import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from '#zod';
import { channelDef, CHANNEL_NAMES } from '../channels/catalogue.js';
import type { SiteRuntime } from '../site/site-runtime.js';
import { QueryBusyError, type EncodedBody, type HistoryPool } from '../store/history-pool.js';
import { negotiateEncoding, type Encoding } from '../util/content-encoding.js';
import { calendarDate } from '../util/calendar-date.js';
import { HttpError, type RouteRegistry } from '../api/route.js';
import { meterParams } from '../site/routes.js';

const DAY_MS = 86_400_000;
const MAX_RAW_RANGE_MS = 7 * DAY_MS;
const MAX_RANGE_MS = 400 * DAY_MS;

const range = (maxMs: number) =>
  z
    .object({
      from: z.coerce.number().int().nonnegative().describe('unix ms, inclusive'),
      to: z.coerce.number().int().positive().describe('unix ms, exclusive'),
    })
    .refine((r) => r.to > r.from, { error: 'to must be after from', path: ['to'] })
    .refine((r) => r.to - r.from <= maxMs, {
      error: `the range may span at most ${maxMs / DAY_MS} days; ask for intervals or daily values for longer spans`,
      path: ['to'],
    });

/**
 * History runs on the query worker, which also serialises and compresses (the request thread only
 * sends bytes); a full queue is a 503 the client may retry, never a stalled poll.
 */
async function answered(reply: FastifyReply, contentType: string, answer: Promise<EncodedBody>): Promise<FastifyReply> {
  let encoded: EncodedBody;
  try {
    encoded = await answer;
  } catch (e) {
    if (e instanceof QueryBusyError) {
      void reply.header('retry-after', '5');
      throw new HttpError(503, e.message);
    }
    throw e;
  }
  void reply.header('content-type', contentType).header('vary', 'accept-encoding');
  if (encoded.encoding !== 'identity') void reply.header('content-encoding', encoded.encoding);
  return reply.send(encoded.body);
}

const accepted = (req: FastifyRequest): Encoding => negotiateEncoding(req.headers['accept-encoding']);

const JSON_TYPE = 'application/json; charset=utf-8';

export function registerHistoryRoutes(routes: RouteRegistry, site: SiteRuntime, history: HistoryPool): void {
  const known = (key: string): void => {
    if (!site.meter(key)) throw new HttpError(404, `no meter ${key}`);
  };
  routes.add({
    method: 'GET',
    url: '/api/meters/:key/history',
    summary: 'Raw readings of one channel (resolution: every poll), at most 7 days',
    role: 'viewer',
    params: meterParams,
    query: z.intersection(range(MAX_RAW_RANGE_MS), z.object({ channel: z.enum(CHANNEL_NAMES as [string, ...string[]]) })),
    handler: ({ params, query, req, reply }) => {
      known(params.key);
      return answered(
        reply,
        JSON_TYPE,
        history.runEncoded(accepted(req), 'raw', params.key, query.channel, channelDef(query.channel)?.unit ?? '', query.from, query.to),
      );
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/meters/:key/intervals',
    summary: '15-minute intervals: energy imported/exported, average/min/max power, min/max voltage',
    role: 'viewer',
    params: meterParams,
    query: range(MAX_RANGE_MS),
    handler: ({ params, query, req, reply }) => {
      known(params.key);
      return answered(reply, JSON_TYPE, history.runEncoded(accepted(req), 'intervals', params.key, query.from, query.to));
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/meters/:key/daily',
    summary: 'Energy per local day (site time zone)',
    role: 'viewer',
    params: meterParams,
    query: range(MAX_RANGE_MS),
    handler: ({ params, query, req, reply }) => {
      known(params.key);
      return answered(reply, JSON_TYPE, history.runEncoded(accepted(req), 'daily', params.key, query.from, query.to, site.config.site.timezone));
    },
  });
  routes.add({
    method: 'GET',
    url: '/api/meters/:key/csv',
    summary: "One local day as CSV in the field logger's columns (kind=readings, every poll) or 15-minute intervals",
    role: 'viewer',
    params: meterParams,
    produces: 'text/csv',
    query: z.object({
      date: calendarDate.describe('the local day, YYYY-MM-DD'),
      kind: z.enum(['readings', 'intervals']).default('readings'),
    }),
    handler: ({ params, query, req, reply }) => {
      known(params.key);
      const meter = site.meter(params.key);
      const id = String(meter?.id ?? 0).padStart(3, '0');
      const suffix = query.kind === 'intervals' ? '_15min' : '';
      void reply.header('content-disposition', `attachment; filename="meter_${id}_${query.date}${suffix}.csv"`);
      return answered(
        reply,
        'text/csv; charset=utf-8',
        history.runEncoded(accepted(req), 'csv', query.kind, params.key, query.date, site.config.site.timezone, meter?.id),
      );
    },
  });
}
