import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where root's and system services' registrations live. */
export const SYSTEM_AWARE_DIR = '/run/restartd/aware.d';
/** Where restartd remembers what it told each registration (written by restartd only). */
export const DEFAULT_AWARE_STATE_DIR = '/run/restartd/aware-state';

/** A user's registration dir as restartd (root) finds it: their runtime dir, /run/user/UID. */
export function userAwareDir(uid: number, runtimeBase = '/run/user'): string {
  return join(runtimeBase, String(uid), 'restartd', 'aware.d');
}

/** The dirs to read for these processes' users: the system dir, then each non-root user's dir. */
export function awareDirsFor(uids: Iterable<number>): string[] {
  const users = [...new Set(uids)].filter((uid) => uid !== 0).sort((a, b) => a - b);
  return [SYSTEM_AWARE_DIR, ...users.map((uid) => userAwareDir(uid))];
}

/** The uids with a runtime dir under `runtimeBase` (/run/user/UID), ascending; none when it can't be read. */
export function userRuntimeUids(runtimeBase = '/run/user'): number[] {
  try {
    return readdirSync(runtimeBase).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  } catch {
    return [];
  }
}
