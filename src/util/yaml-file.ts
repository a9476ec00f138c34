import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, visit, type Document } from 'yaml';
import type { z } from '#zod';

/** A configuration problem that names the file, line, field, what was found and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is not valid; nothing was started or changed:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Alias expansions allowed while reading one file. A site file needs few if any; a "billion laughs"
 * file nests aliases to expand into gigabytes, and is refused at this count, in milliseconds.
 */
export const MAX_YAML_ALIASES = 100;

/** The line of the first alias (*name) in the document, where the expansion starts. */
function firstAlias(doc: Document, lineCounter: LineCounter): { line: number; name: string } {
  let found = { line: 1, name: '' };
  visit(doc, {
    Alias(_key, node) {
      if (!node.range) return undefined;
      found = { line: lineCounter.linePos(node.range[0]).line, name: node.source };
      return visit.BREAK;
    },
  });
  return found;
}

/** The document as plain data, refusing alias bombs with the file and line. */
function toData(doc: Document, lineCounter: LineCounter, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // The yaml library reports too many alias expansions as a ReferenceError.
    if (!(e instanceof ReferenceError)) throw e;
    const at = firstAlias(doc, lineCounter);
    throw new ConfigError(file, [
      `${file}:${at.line}: YAML aliases: *${at.name} and the aliases it holds expand to more than ${MAX_YAML_ALIASES} copies, as a resource exhaustion ("billion laughs") file does; allowed: at most ${MAX_YAML_ALIASES} alias expansions, so write the values out`,
    ]);
  }
}

/** Parses YAML text and validates it, reporting every problem with its line in the file. */
export function parseYamlWith<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${file}:${pos.line}:${pos.col}: YAML syntax: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const data = toData(doc, lineCounter, file);
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // Point at the deepest node that exists in the file.
    let line = 1;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        line = lineCounter.linePos(node.range[0]).line;
        break;
      }
    }
    const field = path.length ? path.join('.') : '(top level)';
    const found = describeFound(path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], data));
    return `${file}:${line}: ${field}: ${issue.message}; found ${found}`;
  });
  throw new ConfigError(file, problems);
}

export function loadYamlFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`${file}: cannot be read (${(e as Error).message})`]);
  }
  return parseYamlWith(text, file, schema);
}
