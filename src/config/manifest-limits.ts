import type { ManifestLimits } from '../generation/load-generation.js';
import type { Config } from './schema.js';

/** The config's bounds on a manifest generation, as loadGeneration takes them (unset: the defaults). */
export function manifestLimitsOf(config: Config | undefined): ManifestLimits {
  const limits = config?.limits;
  return {
    ...(limits?.manifestMaxBytes === undefined ? {} : { maxBytes: limits.manifestMaxBytes }),
    ...(limits?.manifestMaxEntries === undefined ? {} : { maxEntries: limits.manifestMaxEntries }),
  };
}
