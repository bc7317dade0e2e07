import { accessSync, constants, mkdirSync } from 'node:fs';
import { RestartdError } from '../errors.js';

/** Where the per-switch journals live in the state dir. */
export const SWITCHES_DIR = 'switches';

/** restartd's state dir when none is given: the lock, the journals, the hook's pending switch. */
export const DEFAULT_STATE_DIR = '/var/lib/restartd';

/** Creates the state dir if needed; a dir restartd cannot write is bad input, named. */
export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RestartdError('BAD_INPUT', `state dir ${dir}: cannot write there (${reason}); pass --state-dir DIR`, { cause: error, subject: dir });
  }
}
