import { lstatSync } from 'node:fs';
import type { Config } from './schema.js';

/** Where restartd looks for its config when `--config` is not given (kept free of zod: status reads it cheaply). */
export const DEFAULT_CONFIG_PATH = '/etc/restartd/config.json';

/**
 * The config used when there is no config file, written out so that a machine without one never
 * loads zod (loading it costs `status` tens of milliseconds); tests/config.test.ts checks it is
 * exactly what the schema makes of `{ version: 1 }`.
 */
export const DEFAULT_CONFIG: Config = Object.freeze({
  version: 1,
  units: [],
  protect: [],
  unprotect: [],
  jobTimeoutSeconds: 300,
  settleSeconds: 2,
  concurrency: 4,
});

/**
 * Whether the default config file is certainly absent (ENOENT), so the defaults apply without
 * reading or validating anything. Anything else (it exists, or its dir is unreadable) is for
 * loadConfig to read or to refuse with its error.
 */
export function defaultConfigAbsent(path: string = DEFAULT_CONFIG_PATH): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
