import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BUILTIN_PROFILE_DIR, loadProfiles } from '../drivers/profiles.js';
import type { DeviceProfile } from '../drivers/profile-schema.js';
import { siteConfigSchemaFor, type SiteConfig } from './site-config.js';
import { ConfigError, MAX_YAML_ALIASES, parseYamlWith } from '../util/yaml-file.js';

export interface LoadedSite {
  readonly config: SiteConfig;
  readonly profiles: Map<string, DeviceProfile>;
  readonly file: string | null;
}

/** Extra profile folders named in the file, resolved relative to it (read before full validation). */
function profileDirsOf(text: string, file: string): string[] {
  let raw: unknown;
  try {
    // Bounded like the full read; an alias bomb is reported there, with its line.
    raw = parse(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    return [];
  }
  const dirs = (raw as { profiles?: unknown } | null)?.profiles;
  return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string').map((d) => path.resolve(path.dirname(file), d)) : [];
}

/** Reads and validates a site file completely before anything starts: all or nothing. */
export function loadSiteConfigText(text: string, file: string): LoadedSite {
  const profiles = loadProfiles([BUILTIN_PROFILE_DIR, ...profileDirsOf(text, file)]);
  const config = parseYamlWith(text, file, siteConfigSchemaFor([...profiles.keys()]));
  const storagePath = path.resolve(path.dirname(file), config.storage.path);
  return { config: { ...config, storage: { ...config.storage, path: storagePath } }, profiles, file };
}

export function loadSiteConfigFile(file: string): LoadedSite {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`${file}: cannot be read (${(e as Error).message}); pass --config <file> or run "mgos start --demo"`]);
  }
  return loadSiteConfigText(text, file);
}
