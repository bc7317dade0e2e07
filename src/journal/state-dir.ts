import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { RestartdError } from '../errors.js';
import { checkTrusted, checkTrustedTree, lstatOrNone } from './state-trust.js';

/** Where the per-switch journals live in the state dir. */
export const SWITCHES_DIR = 'switches';

/** restartd's state dir when none is given: the lock, the journals, the hook's pending switch. */
export const DEFAULT_STATE_DIR = '/var/lib/restartd';

/**
 * Creates the state dir if needed; a dir restartd cannot write is bad input, named. The dir is
 * ours or nothing: it (a link to it is followed: /var/lib may be a link) and every entry in it and
 * in `switches/` must be owned by root or the running uid and not writable by group or others,
 * else UNSAFE_STATE (exit 3): a local user who can write there could steer root's runs.
 */
export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RestartdError('BAD_INPUT', `state dir ${dir}: cannot write there (${reason}); pass --state-dir DIR`, { cause: error, subject: dir });
  }
  checkTrusted(dir, '.', statSync(dir), 'dir');
  checkTrustedTree(dir, '');
  if (lstatOrNone(`${dir}/${SWITCHES_DIR}`)?.isDirectory()) checkTrustedTree(dir, SWITCHES_DIR);
}
