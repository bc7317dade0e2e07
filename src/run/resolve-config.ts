import type { Config } from '../config/schema.js';

/**
 * A config given as a path (or not at all) is loaded; one built in code is validated as a file's
 * would be, with the defaults filled in for what it leaves out (a hand-built `{ version: 1, ... }`
 * gets the same settle time, limits and policy a file would).
 */
export async function resolveConfig(config: Config | string | undefined): Promise<Config> {
  const { loadConfig, validateConfig } = await import('../config/load-config.js');
  return typeof config === 'object' ? validateConfig(config) : loadConfig(config);
}
