import { closeSync, openSync } from 'node:fs';
import { openFlags, readAt } from '../safe-fs/read-regular.js';

const CHUNK = 64 * 1024;

/** Two read buffers, allocated once per diff and reused for every pair. */
export interface CompareBuffers {
  old: Buffer;
  new: Buffer;
}

export function compareBuffers(): CompareBuffers {
  return { old: Buffer.allocUnsafe(CHUNK), new: Buffer.allocUnsafe(CHUNK) };
}

function openQuietly(path: string): number | undefined {
  try {
    return openSync(path, openFlags(false));
  } catch {
    return undefined;
  }
}

/**
 * Whether two files hold the same bytes, read side by side chunk by chunk and stopping at the first
 * difference (cheaper than hashing both: nothing is read past it, nothing is digested). A file that
 * cannot be opened or read counts as different: restarting needlessly is safer than missing one.
 * Opened non-blocking and without following a last-component link, like every file someone else controls.
 */
export function sameContents(oldPath: string, newPath: string, buffers: CompareBuffers): boolean {
  const oldFd = openQuietly(oldPath);
  if (oldFd === undefined) return false;
  const newFd = openQuietly(newPath);
  try {
    if (newFd === undefined) return false;
    for (let position = 0; ; position += CHUNK) {
      const oldBytes = readAt(oldFd, buffers.old, position);
      const newBytes = readAt(newFd, buffers.new, position);
      if (oldBytes !== newBytes || !buffers.old.subarray(0, oldBytes).equals(buffers.new.subarray(0, newBytes))) return false;
      if (oldBytes < CHUNK) return true;
    }
  } catch {
    return false;
  } finally {
    closeSync(oldFd);
    if (newFd !== undefined) closeSync(newFd);
  }
}
