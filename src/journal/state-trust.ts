import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { RestartdError, unlessMissing } from '../errors.js';

/** Entries of the state dir that must be directories, and those that must be regular files. */
const DIRS = new Set(['switches']);
const FILE_NAME = /^lock$|\.(json|jsonl|log)$/;

/** Suffix of a switch dir moved aside because its unfinished plan was not one restartd wrote. */
export const QUARANTINED = '.quarantined-';

/** uid 0, or the uid restartd runs as: the only owners whose files in the state dir are trusted. */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === (process.getuid?.() ?? 0);
}

export function unsafeState(dir: string, path: string, detail: string): RestartdError {
  const what = path === '.' ? 'the dir itself' : path;
  return new RestartdError('UNSAFE_STATE', `state dir ${dir}: ${what} ${detail}; refused (fix or remove it, or pass --state-dir DIR)`, { subject: path === '.' ? dir : `${dir}/${path}` });
}

/**
 * Refuses what restartd did not write: `st` (an lstat) must be owned by root or the running uid,
 * not writable by group or others, of the kind expected, and never a symbolic link.
 */
export function checkTrusted(dir: string, path: string, st: Stats, kind: 'dir' | 'file' | 'any'): void {
  if (st.isSymbolicLink()) throw unsafeState(dir, path, 'is a symbolic link');
  if (kind === 'dir' && !st.isDirectory()) throw unsafeState(dir, path, 'is not a directory');
  if (kind === 'file' && !st.isFile()) throw unsafeState(dir, path, st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file');
  if (!trustedOwner(st.uid)) throw unsafeState(dir, path, `is owned by uid ${st.uid}, not root or the running user`);
  if ((st.mode & 0o022) !== 0) throw unsafeState(dir, path, `is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

/** lstat, or undefined when the path does not exist. */
export function lstatOrNone(path: string): Stats | undefined {
  return unlessMissing(() => lstatSync(path));
}

/** Checks `sub` (relative to the state dir `dir`) and each entry in it, one level deep. */
export function checkTrustedTree(dir: string, sub: string): void {
  const top = sub === '' ? dir : join(dir, sub);
  for (const name of readdirSync(top)) {
    const rel = sub === '' ? name : `${sub}/${name}`;
    const st = lstatOrNone(join(top, name));
    if (st === undefined) continue;
    checkTrusted(dir, rel, st, DIRS.has(name) ? 'dir' : FILE_NAME.test(name) ? 'file' : 'any');
  }
}
