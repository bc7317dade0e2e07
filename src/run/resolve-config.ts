import type { Config } from '../config/schema.js';

/** A config given as a path (or not at all) is loaded; a parsed one is taken as it is. */
export async function resolveConfig(config: Config | string | undefined): Promise<Config> {
  if (typeof config === 'object') return config;
  const { loadConfig } = await import('../config/load-config.js');
  return loadConfig(config);
}
