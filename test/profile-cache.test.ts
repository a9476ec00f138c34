import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadMeterProfiles, writeProfileCache } from '../src/drivers/profile-cache.js';
import { loadProfiles } from '../src/drivers/profiles.js';
import { fromRoot } from '../src/util/paths.js';

/** A copy of the built-in meter profiles, so the test can age and edit them. */
function copyProfiles(t: { after: (fn: () => void) => void }): { dir: string; cache: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'mgos-profile-cache-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'profiles');
  mkdirSync(dir);
  for (const f of ['ddsu666.yaml', 'dtsu666.yaml']) copyFileSync(fromRoot('profiles', f), path.join(dir, f));
  const old = new Date(Date.UTC(2026, 0, 1)); // before the cache is written, whatever today is
  for (const f of ['ddsu666.yaml', 'dtsu666.yaml', '']) utimesSync(path.join(dir, f), old, old);
  return { dir, cache: path.join(root, 'meter-profiles.json') };
}

test('the JSON written at build gives the same meter profiles as the YAML', async (t) => {
  const paths = copyProfiles(t);
  await writeProfileCache(paths);
  const fromJson = await loadMeterProfiles(paths);
  assert.deepEqual([...fromJson.entries()], [...loadProfiles([paths.dir]).entries()]);
  assert.deepEqual([...fromJson.keys()].sort(), ['DDSU666', 'DTSU666']);
});

test('a profile edited after the build is read from its YAML, not from the stale JSON', async (t) => {
  const paths = copyProfiles(t);
  await writeProfileCache(paths);
  const file = path.join(paths.dir, 'ddsu666.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^model: .*$/m, 'model: DDSU666-EDITED'));
  const later = new Date(statSync(paths.cache).mtimeMs + 60_000); // edited after the build
  utimesSync(file, later, later);
  const profiles = await loadMeterProfiles(paths);
  assert.ok(profiles.has('DDSU666-EDITED'), `models: ${[...profiles.keys()].join(', ')}`);
});
