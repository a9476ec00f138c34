import { randomUUID } from 'node:crypto';
import { z } from '#zod';
import { ConverterRun, identifyOverDlt645, type ConversionResult } from './converter.js';
import type { StepRecord } from './log.js';
import { allowedBenchLine, BenchLineRefused, type BenchLinePolicy } from './bench-line-policy.js';
import { METER_MODELS } from '../../dlt645/converter-registers.js';
import type { DeviceProfile } from '../../drivers/profile-schema.js';
import { HttpError, type RouteRegistry } from '../../api/route.js';

/**
 * The bench converter over HTTP. A run stops half-way for the operator's front-panel switch, so
 * POST /run answers when the run finishes or waits for the operator (with the instructions), and
 * POST /runs/:id/confirm continues it to the end. One run per bench line at a time.
 */
export interface ConverterRouteDeps {
  /** The serial devices and gateways a run may open (benchLinePolicyFor(site config)). */
  readonly linePolicy: BenchLinePolicy;
  readonly profiles?: ReadonlyMap<string, DeviceProfile>;
  /** How long a run waits for the operator (default 10 minutes). */
  readonly operatorTimeoutMs?: number;
  /** Told about every successful conversion (the inventory moves the meter to Converted). */
  readonly onConverted?: (result: ConversionResult, by: string) => void;
  readonly onError?: (what: string, err: unknown) => void;
}

const lineShape = {
  tcp: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'HOST:PORT')
    .optional(),
  // Which devices may be opened is decided after resolving the path (linePolicy), not by its spelling.
  port: z.string().min(1).max(256).optional(),
  timeoutMs: z.number().int().min(50).max(10_000).optional(),
};
const oneLine = (b: { tcp?: string; port?: string }): boolean => (b.tcp === undefined) !== (b.port === undefined);
const ONE_LINE = { message: 'give exactly one of tcp (HOST:PORT) or port (/dev/...)' };

const identifyBody = z.object(lineShape).strict().refine(oneLine, ONE_LINE);
const runBody = z
  .object({
    ...lineShape,
    model: z.enum(METER_MODELS),
    address: z.number().int().min(2).max(247),
    serial: z
      .string()
      .regex(/^\d{12}$/, '12 digits')
      .optional(),
    /** The meter was already switched on its panel (like --yes). */
    operatorConfirmed: z.boolean().default(false),
  })
  .strict()
  .refine(oneLine, ONE_LINE);
const runParams = z.object({ id: z.uuid() }).strict();

interface RunView {
  readonly runId: string;
  readonly state: ConverterRun['state'];
  readonly instructions?: readonly string[];
  readonly steps: readonly StepRecord[];
  readonly result?: ConversionResult;
}

const MAX_KEPT = 20;

/** The line as it will be opened, or 400 naming what was refused and what is allowed. */
function permitted<S extends { tcp?: string; port?: string }>(line: S, policy: BenchLinePolicy): S {
  try {
    return allowedBenchLine(line, policy);
  } catch (e) {
    if (e instanceof BenchLineRefused) throw new HttpError(400, e.message);
    throw e;
  }
}

export function registerConverterRoutes(routes: RouteRegistry, deps: ConverterRouteDeps): void {
  const runs = new Map<string, { run: ConverterRun; line: string; result?: ConversionResult }>();

  const view = (runId: string): RunView => {
    const entry = runs.get(runId);
    if (!entry) throw new HttpError(404, `no converter run ${runId}`);
    const { run, result } = entry;
    return { runId, state: run.state, instructions: run.instructions, steps: result?.steps ?? run.log.steps(), result };
  };

  /** Resolves when the run needs the operator or has finished. */
  const settled = (runId: string): Promise<RunView> => {
    const entry = runs.get(runId);
    if (!entry) throw new HttpError(404, `no converter run ${runId}`);
    return new Promise((resolve) => {
      const done = (): void => {
        off();
        resolve(view(runId));
      };
      const off = entry.run.on((e) => {
        if (e.type === 'operator-action') done();
      });
      if (entry.run.state === 'waiting-for-operator') {
        done();
        return;
      }
      void entry.run.start().then(done);
    });
  };

  routes.add({
    method: 'POST',
    url: '/api/converter/identify',
    summary: 'Bench: read the serial number and energy of the one meter on a bench line over DL/T645',
    role: 'installer',
    body: identifyBody,
    handler: ({ body }) => identifyOverDlt645(permitted(body, deps.linePolicy)),
  });

  routes.add({
    method: 'POST',
    url: '/api/converter/run',
    summary: 'Bench: the full DL/T645-to-Modbus process; answers when done or when the operator must switch the front panel',
    role: 'installer',
    body: runBody,
    handler: ({ body, user }) => {
      const { model, address, serial, operatorConfirmed, ...asked } = body;
      const line = permitted(asked, deps.linePolicy);
      const lineKey = line.tcp ?? line.port ?? '';
      for (const e of runs.values()) {
        if (e.line === lineKey && !e.result) throw new HttpError(409, `a converter run is already using ${lineKey}`);
      }
      const run = new ConverterRun({ line, plan: { model, address, serial }, profiles: deps.profiles, operatorTimeoutMs: deps.operatorTimeoutMs });
      if (operatorConfirmed) run.operatorConfirmed();
      const runId = randomUUID();
      const entry: { run: ConverterRun; line: string; result?: ConversionResult } = { run, line: lineKey };
      runs.set(runId, entry);
      void run.start().then((r) => {
        entry.result = r;
        try {
          if (r.ok) deps.onConverted?.(r, user?.username ?? '?');
        } catch (e) {
          // The conversion itself succeeded; a bookkeeping failure must not crash the server.
          deps.onError?.('inventory update after conversion', e);
        }
      });
      for (const id of [...runs.keys()].slice(0, Math.max(0, runs.size - MAX_KEPT))) if (runs.get(id)?.result) runs.delete(id);
      return settled(runId);
    },
  });

  routes.add({
    method: 'POST',
    url: '/api/converter/runs/:id/confirm',
    summary: 'Bench: the operator has switched the meter to Modbus (n.2) on its front panel; continue the run to its end',
    role: 'installer',
    params: runParams,
    handler: async ({ params }) => {
      const entry = runs.get(params.id);
      if (!entry) throw new HttpError(404, `no converter run ${params.id}`);
      entry.run.operatorConfirmed();
      await entry.run.start();
      return view(params.id);
    },
  });

  routes.add({
    method: 'POST',
    url: '/api/converter/runs/:id/cancel',
    summary: 'Bench: stop a run that waits for the operator',
    role: 'installer',
    params: runParams,
    handler: async ({ params }) => {
      const entry = runs.get(params.id);
      if (!entry) throw new HttpError(404, `no converter run ${params.id}`);
      entry.run.cancel('cancelled over the API');
      await entry.run.start();
      return view(params.id);
    },
  });

  routes.add({
    method: 'GET',
    url: '/api/converter/runs/:id',
    summary: 'Bench: state and step log of a converter run',
    role: 'installer',
    params: runParams,
    handler: ({ params }) => view(params.id),
  });
}
