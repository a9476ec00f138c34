/**
 * The variable expressions of the CACTUS procedures (conformance/cactus/SCHEMA-README.md, "Parameter
 * Variable Resolution"; definitions/variable_expressions.py): a parameter that is `$name` or `$(a op b)`
 * with one or three tokens, operands being a named variable, a number or a quoted duration such as
 * '5 mins'. Resolved when the action, check or event runs, from the server's clock and what the client
 * reported (DERSettings, DERCapability).
 */

export type Value = number | boolean | string | { readonly timeMs: number } | { readonly durationMs: number };

export interface Resolver {
  readonly nowMs: number;
  /** The last DERSettings and DERCapability the client PUT, in W (or VA, var, PF), by element name. */
  readonly settings: Readonly<Record<string, number>> | undefined;
  readonly capability: Readonly<Record<string, number>> | undefined;
  /** `randuri_1`… stable within a run. */
  readonly randuri: (n: number) => string;
}

export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

/** The body of `$(…)` or `$name`; undefined when the value is not a variable expression. */
export function extractExpression(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\s*\$\((.*)\)\s*$/.exec(v) ?? /^\s*\$([_a-zA-Z0-9]+)\s*$/.exec(v);
  return m?.[1];
}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([_a-zA-Z][_a-zA-Z0-9]*)|'([^']*)'|"([^"]*)"|(==|!=|<=|>=|[-+*/<>]))/y;

type Token = { kind: 'num'; v: number } | { kind: 'name'; v: string } | { kind: 'str'; v: string } | { kind: 'op'; v: string };

function tokenize(body: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < body.length) {
    if (/^\s*$/.test(body.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(body);
    if (!m) throw new ExpressionError(`cannot read "${body}" at character ${TOKEN.lastIndex + 1}`);
    if (m[1] !== undefined) out.push({ kind: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ kind: 'name', v: m[2] });
    else if (m[3] !== undefined || m[4] !== undefined) out.push({ kind: 'str', v: m[3] ?? m[4] ?? '' });
    else out.push({ kind: 'op', v: m[5] ?? '' });
  }
  return out;
}

const UNITS: readonly [readonly string[], number][] = [
  [['day', 'days'], 86_400_000],
  [['hour', 'hours', 'hrs', 'hr'], 3_600_000],
  [['minute', 'minutes', 'min', 'mins'], 60_000],
  [['second', 'seconds', 'sec', 'secs'], 1000],
];

function duration(s: string): { durationMs: number } {
  const m = /^\s*(-?[0-9.]+)\s*([a-zA-Z]+)\s*$/.exec(s);
  const unit = m ? UNITS.find(([names]) => names.includes((m[2] ?? '').toLowerCase())) : undefined;
  if (!m || !unit || !Number.isFinite(Number(m[1]))) throw new ExpressionError(`'${s}' is not a duration such as '5 mins'`);
  return { durationMs: Number(m[1]) * unit[1] };
}

/** AEST (UTC+10, no daylight saving): the procedures' day and hour boundaries. */
const AEST_MS = 10 * 3_600_000;

function named(name: string, paramKey: string, r: Resolver): Value {
  if (name === 'this') {
    if (paramKey === 'this') throw new ExpressionError('$this needs a parameter named after a variable');
    return named(paramKey, 'this', r);
  }
  if (name === 'now') return { timeMs: r.nowMs };
  if (name === 'now_hour') return { timeMs: Math.floor(r.nowMs / 3_600_000) * 3_600_000 };
  if (name === 'now_day') return { timeMs: Math.floor((r.nowMs + AEST_MS) / 86_400_000) * 86_400_000 - AEST_MS };
  const rand = /^randuri_([123])$/.exec(name);
  if (rand) return r.randuri(Number(rand[1]));
  const setting = (k: string): number | undefined => r.settings?.[k];
  if (name === 'maxImportW' || name === 'maxExportW') {
    const v = setting(name === 'maxImportW' ? 'setMaxChargeRateW' : 'setMaxDischargeRateW') ?? setting('setMaxW');
    if (v === undefined) throw new ExpressionError(`$${name}: the client has not reported DERSettings.setMaxW`);
    return v;
  }
  if (name === 'negRtgMaxChargeRateW') {
    const v = r.capability?.['rtgMaxChargeRateW'];
    if (v === undefined) throw new ExpressionError('$negRtgMaxChargeRateW: the client has not reported DERCapability.rtgMaxChargeRateW');
    return -v;
  }
  if (name.startsWith('set')) {
    const v = setting(name);
    if (v === undefined) throw new ExpressionError(`$${name}: the client has not reported DERSettings.${name}`);
    return v;
  }
  if (name.startsWith('rtg')) {
    const v = r.capability?.[name];
    if (v === undefined) throw new ExpressionError(`$${name}: the client has not reported DERCapability.${name}`);
    return v;
  }
  throw new ExpressionError(`$${name} is not a known variable`);
}

function operand(t: Token, paramKey: string, r: Resolver): Value {
  if (t.kind === 'num') return t.v;
  if (t.kind === 'str') return duration(t.v);
  if (t.kind === 'name') return named(t.v, paramKey, r);
  throw new ExpressionError(`expected a value, found the operator ${t.v}`);
}

const num = (v: Value): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && 'timeMs' in v) return v.timeMs;
  if (typeof v === 'object' && 'durationMs' in v) return v.durationMs;
  throw new ExpressionError(`expected a number, found ${String(v)}`);
};

function apply(op: string, a: Value, b: Value): Value {
  const isTime = (v: Value): boolean => typeof v === 'object' && 'timeMs' in v;
  switch (op) {
    case '+':
      return isTime(a) || isTime(b) ? { timeMs: num(a) + num(b) } : num(a) + num(b);
    case '-':
      return isTime(a) && !isTime(b) ? { timeMs: num(a) - num(b) } : num(a) - num(b);
    case '*':
      return num(a) * num(b);
    case '/':
      return num(a) / num(b);
    case '==':
      return num(a) === num(b);
    case '!=':
      return num(a) !== num(b);
    case '<':
      return num(a) < num(b);
    case '<=':
      return num(a) <= num(b);
    case '>':
      return num(a) > num(b);
    case '>=':
      return num(a) >= num(b);
  }
  throw new ExpressionError(`unknown operator ${op}`);
}

/** Evaluates an expression body (what `extractExpression` returned) for the parameter `paramKey`. */
export function evaluate(body: string, paramKey: string, r: Resolver): Value {
  const t = tokenize(body);
  const [a, op, b] = t;
  if (t.length === 1 && a) return operand(a, paramKey, r);
  if (t.length === 3 && a && op?.kind === 'op' && b) return apply(op.v, operand(a, paramKey, r), operand(b, paramKey, r));
  throw new ExpressionError(`"${body}" is not one value or one binary operation`);
}

/** A parameter value with any expression resolved (lists element by element). */
export function resolveValue(v: unknown, paramKey: string, r: Resolver): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, paramKey, r));
  const body = extractExpression(v);
  return body === undefined ? v : evaluate(body, paramKey, r);
}

export function resolveParams(p: Readonly<Record<string, unknown>>, r: Resolver): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, resolveValue(v, k, r)]));
}
