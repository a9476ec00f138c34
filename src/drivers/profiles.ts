import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../util/paths.js';
import { loadYamlFile } from '../util/yaml-file.js';
import { profileSchema, type DeviceProfile } from './profile-schema.js';

/** The profiles shipped with mgos. */
export const BUILTIN_PROFILE_DIR = fromRoot('profiles');

/**
 * Storage, PV and generator profiles (issue 10). They live in their own folder so that the meter type
 * list (site file `type:`, its error messages, discovery) keeps offering meters only.
 */
export const STORAGE_PROFILE_DIR = fromRoot('profiles/storage');

/** The built-in inverter, battery and generator profiles, by upper-case model name. */
export function loadDeviceProfiles(dirs: readonly string[] = [STORAGE_PROFILE_DIR]): Map<string, DeviceProfile> {
  return loadProfiles(dirs);
}

/** Loads every *.yaml profile in the given folders; later folders may override a model. */
export function loadProfiles(dirs: readonly string[] = [BUILTIN_PROFILE_DIR]): Map<string, DeviceProfile> {
  const profiles = new Map<string, DeviceProfile>();
  for (const dir of dirs) {
    for (const name of readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort()) {
      const profile = loadYamlFile(path.join(dir, name), profileSchema);
      profiles.set(profile.model.toUpperCase(), profile);
    }
  }
  return profiles;
}
