import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fromRoot } from '../src/util/paths.js';

/**
 * Comments and docs cite public documents (standards, vendor manuals, provider API pages) and the
 * project's own docs/ pages, never files outside the repository (issue 9, item 7). The facts the code
 * relies on live in docs/modbus.md, docs/devices.md, docs/payments.md, docs/sign-conventions.md and
 * docs/ems-modes.md.
 */
const SCANNED = ['src', 'test', 'bench', 'profiles', 'docs', 'README.md'];
const THIS_FILE = 'test/docs-citations.test.ts';

/** Paths and section references that point outside the repository. */
const FORBIDDEN: readonly { readonly pattern: RegExp; readonly what: string }[] = [
  { pattern: /reference\//, what: 'a research file outside the repository (reference/...)' },
  { pattern: /seeds\//, what: 'a requirement document outside the repository (seeds/...)' },
  { pattern: /\bseed 00\d/i, what: 'a requirement document outside the repository (seed 00x)' },
  { pattern: /protocols\.md/, what: 'protocols.md, not in the repository' },
  { pattern: /toolchain\.md/, what: 'toolchain.md, not in the repository' },
  // Our own docs/payments.md and docs/devices.md exist; their section-numbered namesakes did not.
  { pattern: /payments\.md §/, what: 'payments.md §, a file outside the repository' },
  { pattern: /devices\.md §/, what: 'devices.md §, a file outside the repository' },
  { pattern: /(?<![\w/.(])(?:payments|devices)\.md \d/, what: 'devices.md/payments.md with a section number: name the public source' },
];

function files(rel: string): string[] {
  const abs = fromRoot(rel);
  if (!existsSync(abs)) return [];
  if (statSync(abs).isFile()) return [rel];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) => (e.name === 'node_modules' || e.name.startsWith('.') ? [] : files(`${rel}/${e.name}`)));
}

const TEXT = /\.(ts|tsx|js|mjs|md|yaml|yml|json|sql|txt)$/;
const scanned = SCANNED.flatMap(files).filter((f) => TEXT.test(f) && f !== THIS_FILE);

test('no file cites a document outside the repository', () => {
  const found: string[] = [];
  for (const file of scanned) {
    readFileSync(fromRoot(file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const { pattern, what } of FORBIDDEN) {
          if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
        }
      });
  }
  assert.deepEqual(found, [], `cite the public source or a docs/ page instead:\n${found.join('\n')}`);
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    out.add(
      (m[1] ?? '')
        .toLowerCase()
        .replace(/`/g, '')
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

test('every docs/*.md page that is cited exists, and so does the section it names', () => {
  const missing: string[] = [];
  const cache = new Map<string, Set<string> | null>();
  const target = (page: string): Set<string> | null => {
    const known = cache.get(page);
    if (known !== undefined) return known;
    const abs = fromRoot('docs', page);
    const found = existsSync(abs) ? anchors(readFileSync(abs, 'utf8')) : null;
    cache.set(page, found);
    return found;
  };
  for (const file of scanned) {
    const text = readFileSync(fromRoot(file), 'utf8');
    const refs: { page: string; anchor: string | undefined }[] = [];
    // `docs/xxx.md` and `docs/xxx.md#section`, anywhere (comments, tables, prose).
    for (const m of text.matchAll(/(?<![\w.-])docs\/([\w-]+\.md)(?:#([\w-]+))?/g)) refs.push({ page: m[1] ?? '', anchor: m[2] });
    // Relative Markdown links between pages of docs/: [text](xxx.md#section).
    if (file.startsWith('docs/')) {
      for (const m of text.matchAll(/\]\(([\w-]+\.md)(?:#([\w-]+))?\)/g)) refs.push({ page: m[1] ?? '', anchor: m[2] });
      for (const m of text.matchAll(/\]\(#([\w-]+)\)/g)) refs.push({ page: path.basename(file), anchor: m[1] });
    }
    for (const { page, anchor } of refs) {
      const found = target(page);
      if (!found) missing.push(`${file}: docs/${page} does not exist`);
      else if (anchor && !found.has(anchor)) missing.push(`${file}: docs/${page} has no section #${anchor}`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});
