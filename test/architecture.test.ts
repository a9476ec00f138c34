import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fromRoot } from '../src/util/paths.js';

/**
 * The dependency rule (docs/architecture.md, "Dependency direction"): every room of src/ sits in one
 * layer, and a file may import only from its own room or from a room in a lower layer. Rooms in the
 * same layer do not import each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['channels', 'auth'],
  ['drivers'],
  ['config'],
  ['modbus', 'store', 'http'],
  ['dlt645', 'relays', 'sunspec'],
  ['site'],
  ['recorder'],
  ['sim'],
  ['alarms', 'commissioning', 'billing', 'payments', 'notifications', 'history', 'fleet', 'uplink', 'csip'],
  ['governance', 'ocpp'],
  ['billing-runtime', 'control'],
  ['overview', 'demo', 'scada', 'metrics', 'remote'],
  ['api'],
  ['system'],
  ['cli'],
];

/** Folders that form one room: the edge cycle's core and the controllers it hosts depend on each other by design. */
const FOLDER_ROOMS: Readonly<Record<string, string>> = { edge: 'control', controllers: 'control' };

/**
 * Files whose room is not their folder's. The route registry is the HTTP contract every capability
 * registers with, so it sits low; the rest of api/ (server, SSE, login routes) is at the top. The site
 * file's sections are declared beside their capability but belong to the configuration.
 */
const FILE_ROOMS: Readonly<Record<string, string>> = {
  'src/api/route.ts': 'http',
  'src/api/validation-errors.ts': 'http',
  'src/alarms/alarm-config.ts': 'config',
  'src/commissioning/commissioning-config.ts': 'config',
  'src/billing/money.ts': 'config',
  'src/uplink/uplink-config.ts': 'config',
  'src/scada/scada-config.ts': 'config',
  'src/ocpp/ocpp-config.ts': 'config',
  'src/csip/csip-config.ts': 'config',
  'src/store-place-supervisor.ts': 'system',
  'src/metrics/metrics-config.ts': 'config',
};

/**
 * Known upward imports (path prefixes), each with its reason. Remove an entry when it is fixed; never
 * add one silently.
 */
const EXCEPTIONS: ReadonlyArray<{ readonly from: string; readonly to: string; readonly why: string }> = [
  {
    from: 'src/config/',
    to: 'src/edge/',
    why: "the site file's control section (work in progress) declares its schema in src/edge, beside governance's autonomy levels; to settle when it lands",
  },
  {
    from: 'src/recorder/simulated-history.ts',
    to: 'src/sim/',
    why: 'the simulated-history backfill belongs in src/sim; it moves there when the recorder work in progress lands',
  },
  {
    from: 'src/site/embedded-simulator.ts',
    to: 'src/recorder/',
    why: 'the embedded simulator belongs in src/sim; it moves there when the control-runtime work in progress lands',
  },
  {
    from: 'src/site/embedded-simulator.ts',
    to: 'src/sim/',
    why: 'as above',
  },
];

const layerOf = new Map<string, number>();
LAYERS.forEach((rooms, i) => rooms.forEach((r) => layerOf.set(r, i)));

function roomOf(file: string): string {
  const fixed = FILE_ROOMS[file];
  if (fixed) return fixed;
  const [, folder, ...rest] = file.split('/');
  if (folder === undefined || rest.length === 0) return path.basename(file, '.ts');
  return FOLDER_ROOMS[folder] ?? folder;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(fromRoot(dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Relative import and re-export specifiers, static and dynamic, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(fromRoot(file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
  return specs.map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, '.ts'));
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly fromRoom: string;
  readonly toRoom: string;
}

function edges(): Edge[] {
  return sourceFiles('src').flatMap((from) =>
    importsOf(from)
      .filter((to) => to.startsWith('src/'))
      .map((to) => ({ from, to, fromRoom: roomOf(from), toRoom: roomOf(to) })),
  );
}

const excepted = (e: Edge): boolean => EXCEPTIONS.some((x) => e.from.startsWith(x.from) && e.to.startsWith(x.to));

test('every room of src/ has a layer', () => {
  const rooms = new Set(sourceFiles('src').map(roomOf));
  const missing = [...rooms].filter((r) => !layerOf.has(r));
  assert.deepEqual(missing, [], `add these rooms to LAYERS in test/architecture.test.ts and docs/architecture.md: ${missing.join(', ')}`);
});

/** The imports that break the rule, as sentences. */
function violations(es: readonly Edge[]): string[] {
  return es
    .filter((e) => e.fromRoom !== e.toRoom && !excepted(e))
    .filter((e) => (layerOf.get(e.toRoom) ?? Infinity) >= (layerOf.get(e.fromRoom) ?? -Infinity))
    .map((e) => `${e.from} (${e.fromRoom}) imports ${e.to} (${e.toRoom})`);
}

test('no import runs upward or sideways between rooms', () => {
  assert.deepEqual(violations(edges()), [], 'imports against the dependency rule (docs/architecture.md)');
});

test('every listed exception is still needed', () => {
  const all = edges();
  const stale = EXCEPTIONS.filter((x) => !all.some((e) => e.from.startsWith(x.from) && e.to.startsWith(x.to)));
  assert.deepEqual(stale, [], 'remove exceptions that no longer occur');
});

test('the rule sees imports and refuses upward and sideways ones', () => {
  assert.ok(edges().some((e) => e.from === 'src/system.ts' && e.to === 'src/api/server.ts'));
  const edge = (from: string, to: string): Edge => ({ from, to, fromRoom: roomOf(from), toRoom: roomOf(to) });
  assert.deepEqual(violations([edge('src/alarms/engine.ts', 'src/store/history.ts'), edge('src/payments/routes.ts', 'src/api/route.ts')]), []);
  assert.equal(violations([edge('src/store/history.ts', 'src/alarms/engine.ts')]).length, 1);
  assert.equal(violations([edge('src/alarms/engine.ts', 'src/billing/ledger.ts')]).length, 1);
  assert.equal(violations([edge('src/commissioning/commissioning.ts', 'src/api/server.ts')]).length, 1);
});
