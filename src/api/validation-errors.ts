import type { z } from '#zod';

/**
 * Turns zod's findings about a request into sentences a person can act on: the field, what is
 * allowed and what was sent, e.g. `date: must be a calendar date YYYY-MM-DD; found "2026-13-45"`.
 * Messages a schema sets itself (`.regex(re, 'a meter serial is exactly 12 digits')`) are kept;
 * only zod's generic ones are reworded, through a per-parse error map.
 */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export interface ValidationFailure {
  readonly error: string;
  readonly issues: readonly FieldIssue[];
}

/** The raw issue zod hands an error map (typed loosely: its fields depend on the code). */
type RawIssue = z.core.$ZodRawIssue & Record<string, unknown>;

const KIND: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  date: 'a date',
  null: 'null',
};

const FORMAT: Record<string, string> = {
  date: 'a calendar date YYYY-MM-DD',
  datetime: 'a date and time in ISO 8601 with its offset, e.g. 2026-01-31T08:00:00+03:00',
  time: 'a time of day HH:MM[:SS]',
  email: 'an email address',
  url: 'a URL',
  uuid: 'a UUID',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 range a.b.c.d/n',
  cidrv6: 'an IPv6 range',
};

const plural = (n: unknown, one: string): string => `${String(n)} ${one}${n === 1 ? '' : 's'}`;

/** What the field should be, phrased to follow "<field>: ". Undefined leaves zod's own message. */
function mustBe(iss: RawIssue): string | undefined {
  const origin = iss.origin as string | undefined;
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'is required' : `must be ${KIND[iss.expected] ?? String(iss.expected)}`;
    case 'too_small': {
      const min = iss.minimum as number;
      if (origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${plural(min, 'character')} long`;
      if (origin === 'array' || origin === 'set') return `must have at least ${plural(min, 'item')}`;
      return iss.inclusive === false ? `must be more than ${String(min)}` : `must be at least ${String(min)}`;
    }
    case 'too_big': {
      const max = iss.maximum as number;
      if (origin === 'string') return `must be at most ${plural(max, 'character')} long`;
      if (origin === 'array' || origin === 'set') return `must have at most ${plural(max, 'item')}`;
      return iss.inclusive === false ? `must be less than ${String(max)}` : `must be at most ${String(max)}`;
    }
    case 'invalid_format': {
      const format = iss.format;
      if (format === 'regex') return `must match the pattern ${String(iss.pattern)}`;
      if (format === 'starts_with') return `must start with ${JSON.stringify(iss.prefix)}`;
      if (format === 'ends_with') return `must end with ${JSON.stringify(iss.suffix)}`;
      if (format === 'includes') return `must contain ${JSON.stringify(iss.includes)}`;
      return `must be ${FORMAT[format] ?? `a valid ${format}`}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)}`;
    case 'invalid_value': {
      const values = (iss.values as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      return values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(', ')}`;
    }
    case 'unrecognized_keys': {
      const keys = iss.keys;
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      const allowed = shape ? `; allowed: ${Object.keys(shape).join(', ')}` : '';
      return `${keys.length === 1 ? 'unknown field' : 'unknown fields'} ${keys.map((k) => JSON.stringify(k)).join(', ')}${allowed}`;
    }
    case 'invalid_union':
      return unionMessage(iss);
    case 'custom':
      return 'is not allowed';
    default:
      return undefined;
  }
}

/** A union is satisfied by any branch: say what each branch wanted ("a number or a date and time ..."). */
function unionMessage(iss: RawIssue): string {
  if (Array.isArray(iss.options) && iss.options.length > 0) return `must be one of ${(iss.options as unknown[]).map(String).join(', ')}`;
  const branches = ((iss.errors as z.core.$ZodIssue[][] | undefined) ?? [])
    .map((errs) => errs[0])
    .filter((e): e is z.core.$ZodIssue => e !== undefined && e.path.length === 0)
    .map((e) => e.message.replace(/^must be /, ''));
  const unique = [...new Set(branches)];
  return unique.length > 0 ? `must be ${unique.join(' or ')}` : 'does not match any allowed form';
}

/** Pass as the parse's `error` option so zod's generic messages come out as sentences. */
export const sentenceErrorMap = (iss: z.core.$ZodRawIssue): string | undefined => mustBe(iss);

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? String(value) : ((JSON.stringify(value) as string | undefined) ?? String(value)); // undefined for undefined, functions and symbols
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * One sentence per issue and a summary for `error`. `where` names the field when the problem is with
 * the whole thing (the body, the query); `data` is what was sent, so the sentence can say what was found.
 */
export function describeValidation(where: string, error: z.ZodError, data: unknown): ValidationFailure {
  const issues = error.issues.map((iss): FieldIssue => {
    const field = iss.path.length > 0 ? iss.path.map(String).join('.') : where;
    const value = valueAt(data, iss.path);
    // A schema's own message may already quote what was sent ("... but found ...", "\"2026-13-45\" is not ...").
    const saysFound = value === undefined || iss.code === 'unrecognized_keys' || /\bfound\b/.test(iss.message) || iss.message.includes(show(value));
    return { field, message: saysFound ? iss.message : `${iss.message}; found ${show(value)}` };
  });
  return { error: issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues };
}
