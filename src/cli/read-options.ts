import type { z } from '#zod';
import type { BusConfig } from '../config/bus-meter-schemas.js';
import { UsageError } from './usage-error.js';

/**
 * `mgos read`'s line and meter options, checked by the site file's own schemas (`busSchema`,
 * `meterSchema`), so the command accepts exactly what a site file accepts. Each problem is one
 * sentence naming the option, what is allowed and what was found, e.g.
 * `--parity: must be one of none, even, odd; found "x"`.
 */
export interface ReadOptionValues {
  readonly port?: string;
  readonly tcp?: string;
  readonly 'rtu-over-tcp'?: boolean;
  readonly baud?: string;
  readonly parity?: string;
  readonly 'stop-bits'?: string;
  readonly timeout?: string;
  readonly ct?: string;
  readonly pt?: string;
  readonly fc?: string;
}

export interface MeterOptions {
  readonly ctRatio: number;
  readonly ptRatio: number;
  readonly functionCode?: 3 | 4;
}

/** The schemas are passed in so this module loads no zod itself (read imports them once, on demand). */
export interface SiteSchemas {
  readonly busSchema: z.ZodType<BusConfig>;
  readonly meterSchema: z.ZodType<MeterOptions>;
}

/** The site-file field each option fills. */
const OPTION_OF: Record<string, string> = {
  path: '--port',
  host: '--tcp (host)',
  port: '--tcp (port)',
  baudRate: '--baud',
  parity: '--parity',
  stopBits: '--stop-bits',
  timeoutMs: '--timeout',
  ctRatio: '--ct',
  ptRatio: '--pt',
  functionCode: '--fc',
};

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A decimal number typed on the command line, else the text as typed (so the schema says "must be a number"). */
const numberOrText = (text: string): number | string => (DECIMAL.test(text.trim()) ? Number(text) : text);

const show = (text: string): string => (DECIMAL.test(text.trim()) ? text.trim() : JSON.stringify(text));

/** zod's issue as the parse hands it out, read loosely: its fields depend on the code. */
type Issue = z.core.$ZodIssue & Record<string, unknown>;

const listValues = (values: readonly unknown[], last: string): string => {
  const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return shown.length <= 2 ? shown.join(` ${last} `) : shown.join(', ');
};

/** What the option must be, phrased to follow "<option>: ". */
function mustBe(issue: Issue, allowedHint: () => string | undefined): string {
  switch (issue.code) {
    case 'invalid_value': {
      const values = issue.values as unknown[];
      return values.length > 2 ? `must be one of ${listValues(values, 'or')}` : `must be ${listValues(values, 'or')}`;
    }
    case 'invalid_union': {
      // A union of literals (stop bits 1 | 2): gather what each branch allowed.
      const values = ((issue.errors as Issue[][] | undefined) ?? []).flatMap((branch) =>
        branch.flatMap((i) => (i.code === 'invalid_value' ? (i.values as unknown[]) : [])),
      );
      return values.length > 0 ? `must be ${listValues(values, 'or')}` : issue.message;
    }
    case 'invalid_type': {
      if (issue.expected === 'int') return 'must be a whole number';
      const hint = allowedHint();
      return `must be ${issue.expected === 'number' ? 'a number' : String(issue.expected)}${hint ? `; allowed: ${hint}` : ''}`;
    }
    case 'too_small':
      return issue.inclusive === false ? `must be more than ${String(issue.minimum)}` : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.inclusive === false ? `must be less than ${String(issue.maximum)}` : `must be at most ${String(issue.maximum)}`;
    default:
      return issue.message; // the schema's own sentence, e.g. "not a standard baud rate; allowed: 1200, ..."
  }
}

/**
 * What a field allows when that is written in the schema's own message ("...; allowed: 1200, 2400"),
 * found by offering it an impossible number: a field refused for not being a number still says which
 * numbers it takes.
 */
function allowedByField(schema: z.ZodType, candidate: Record<string, unknown>, field: string): string | undefined {
  const probe = schema.safeParse({ ...candidate, [field]: -1 });
  if (probe.success) return undefined;
  const own = probe.error.issues.find((i) => i.path.length === 1 && i.path[0] === field);
  const at = own?.message.indexOf('allowed: ') ?? -1;
  return own && at >= 0 ? own.message.slice(at + 'allowed: '.length) : undefined;
}

function check<T>(schema: z.ZodType<T>, candidate: Record<string, unknown>, typed: Record<string, string | undefined>): T {
  const result = schema.safeParse(candidate);
  if (result.success) return result.data;
  const problems = result.error.issues.map((raw) => {
    const issue = raw as Issue;
    const field = String(issue.path[0] ?? '');
    const option = OPTION_OF[field] ?? field;
    const text = typed[field];
    const found = text === undefined ? '' : `; found ${show(text)}`;
    return `${option}: ${mustBe(issue, () => allowedByField(schema, candidate, field))}${found}`;
  });
  throw new UsageError(problems.length === 1 ? (problems[0] ?? '') : `the options are not valid:\n  ${problems.join('\n  ')}`);
}

/** The bus to read through, from --port or --tcp and the line options, checked as the site file's buses are. */
export function busFromOptions(v: ReadOptionValues, schemas: SiteSchemas): BusConfig {
  if (typeof v.port === 'string' && typeof v.tcp === 'string') throw new UsageError('give --port PATH or --tcp HOST:PORT, not both');
  const typed: Record<string, string | undefined> = { baudRate: v.baud, parity: v.parity, stopBits: v['stop-bits'], timeoutMs: v.timeout };
  const line: Record<string, unknown> = { id: 'cli', retries: 0 };
  for (const [field, text] of Object.entries(typed)) {
    if (text !== undefined) line[field] = field === 'parity' ? text : numberOrText(text);
  }
  if (typeof v.port === 'string') {
    return check(schemas.busSchema, { ...line, transport: 'rtu', path: v.port }, { ...typed, path: v.port });
  }
  if (typeof v.tcp === 'string') {
    const colon = v.tcp.lastIndexOf(':');
    const host = v.tcp.slice(0, colon);
    const port = v.tcp.slice(colon + 1);
    if (colon < 0 || !host || !port) throw new UsageError(`--tcp: expected HOST:PORT, got "${v.tcp}"`);
    const transport = v['rtu-over-tcp'] ? 'rtu-over-tcp' : 'tcp';
    return check(schemas.busSchema, { ...line, transport, host, port: numberOrText(port) }, { ...typed, host, port });
  }
  throw new UsageError('give --port PATH or --tcp HOST:PORT');
}

/** Transformer ratios and function code, checked as a site file's meter entry is. */
export function meterFromOptions(v: ReadOptionValues, address: number, type: string, schemas: SiteSchemas): MeterOptions {
  const typed: Record<string, string | undefined> = { ctRatio: v.ct, ptRatio: v.pt, functionCode: v.fc };
  const candidate: Record<string, unknown> = { id: address, name: 'cli', type };
  for (const [field, text] of Object.entries(typed)) {
    if (text !== undefined) candidate[field] = numberOrText(text);
  }
  return check(schemas.meterSchema, candidate, typed);
}
