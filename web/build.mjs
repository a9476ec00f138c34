/**
 * The web UI's build (`npm run build`): one esbuild bundle of web/src/main.ts, the stylesheet and the
 * chart library, each under a content-hashed name in dist/web/assets/, and dist/web/index.html (from
 * web/index.html) naming them. The server sends assets as immutable for a year and index.html as
 * no-cache: a phone fetches each asset once per release, and a release changes only index.html's links.
 * Type checking is tsc's job (web/tsconfig.json); esbuild only strips types.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist', 'web');
const assets = path.join(out, 'assets');
rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

/** Copies a file to assets/ as name-HASH.ext and returns its URL. */
function hashed(file) {
  const body = readFileSync(file);
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 10);
  const ext = file.endsWith('.min.js') ? '.min.js' : file.endsWith('.min.css') ? '.min.css' : path.extname(file);
  const name = `${path.basename(file, ext)}-${hash}${ext}`;
  writeFileSync(path.join(assets, name), body);
  return `/assets/${name}`;
}

// uPlot stays a separate file loaded on the first chart (the overview never pays for it), as its
// minified IIFE build: 22 kB gzipped, half its ESM build.
const uplotJs = hashed(path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'));
const uplotCss = hashed(path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'));

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.ts', style: 'web/app.css' },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  define: { __UPLOT_JS__: JSON.stringify(uplotJs), __UPLOT_CSS__: JSON.stringify(uplotCss) },
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const urlOf = (entry) => {
  const [file] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === entry) ?? [];
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return `/assets/${path.basename(file)}`;
};
const html = readFileSync(path.join(root, 'web', 'index.html'), 'utf8')
  .replaceAll('%APP_JS%', urlOf('web/src/main.ts'))
  .replaceAll('%APP_CSS%', urlOf('web/app.css'));
if (html.includes('%')) {
  const left = html.match(/%[A-Z_]+%/);
  if (left) throw new Error(`web/index.html: unknown placeholder ${left[0]}`);
}
writeFileSync(path.join(out, 'index.html'), html);
