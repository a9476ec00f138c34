import { loadSiteConfigFile } from '../../config/load-site-config.js';
import { demoConfig } from '../../demo/demo-config.js';
import type { SiteConfig } from '../../config/site-config.js';
import { UsageError } from '../usage-error.js';

/** The site (and so its database file) a maintenance command works on. */
export function siteFor(v: { config?: string; demo?: boolean; data?: string }): SiteConfig {
  if (v.config) return loadSiteConfigFile(v.config).config;
  if (v.demo) return demoConfig(v.data ?? 'data');
  throw new UsageError('give --config FILE (or --demo [--data DIR] for the demo database)');
}
