import { DEFAULT_CONFIG, defaultConfigAbsent } from '../config/paths.js';
import type { Config } from '../config/schema.js';

/**
 * A config given as a path (or not at all) is loaded; one built in code is validated as a file's
 * would be, with the defaults filled in for what it leaves out (a hand-built `{ version: 1, ... }`
 * gets the same settle time, limits and policy a file would). With no config file at all, the
 * defaults are used without loading the validator (zod).
 */
export async function resolveConfig(config: Config | string | undefined): Promise<Config> {
  if (config === undefined && defaultConfigAbsent()) return structuredClone(DEFAULT_CONFIG);
  const { loadConfig, validateConfig } = await import('../config/load-config.js');
  return typeof config === 'object' ? validateConfig(config) : loadConfig(config);
}
