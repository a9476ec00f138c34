import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../util/paths.js';
import type { DeviceProfile } from './profile-schema.js';

/**
 * The built-in meter profiles as the profile schema's output in JSON, written by `npm run build`. `mgos read`
 * loads it instead of parsing YAML: the YAML parser and the profile schema were half of its start-up time.
 * It is used only while no file in profiles/ (nor the folder) is newer than it; otherwise the YAML is read
 * and checked as usual, so an edited or added profile is never missed.
 */
export const PROFILE_CACHE = fromRoot('dist', 'meter-profiles.json');

/** Where the profiles and their JSON are; tests give their own. */
export interface ProfileCachePaths {
  readonly dir: string;
  readonly cache: string;
}

const BUILTIN: ProfileCachePaths = { dir: fromRoot('profiles'), cache: PROFILE_CACHE };

function cacheIsFresh({ dir, cache }: ProfileCachePaths): boolean {
  let cacheMs: number;
  try {
    cacheMs = statSync(cache).mtimeMs;
  } catch {
    return false;
  }
  const sources = [dir, ...readdirSync(dir).map((f) => path.join(dir, f))];
  return sources.every((s) => statSync(s).mtimeMs <= cacheMs);
}

/** The meter profiles by upper-case model, from the build's JSON when it is fresh, else from the YAML. */
export async function loadMeterProfiles(paths: ProfileCachePaths = BUILTIN): Promise<Map<string, DeviceProfile>> {
  if (cacheIsFresh(paths)) {
    // Written below from profiles the schema accepted; the freshness check stands for the schema here.
    const list = JSON.parse(readFileSync(paths.cache, 'utf8')) as DeviceProfile[];
    return new Map(list.map((p) => [p.model.toUpperCase(), p]));
  }
  const { loadProfiles } = await import('./profiles.js');
  return loadProfiles([paths.dir]);
}

export async function writeProfileCache(paths: ProfileCachePaths = BUILTIN): Promise<void> {
  const { loadProfiles } = await import('./profiles.js');
  writeFileSync(paths.cache, JSON.stringify([...loadProfiles([paths.dir]).values()]));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await writeProfileCache();
