import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { readFileChunks, turnBudget } from './sync-reads.js';

const CHUNK = 256 * 1024;
// Per-file cost on top of its bytes, so many small files also yield now and then.
const FILE_COST = 16 * 1024;
const BYTES_PER_TURN = 16 * 1024 * 1024;

/**
 * sha256 (hex) of each path, one file at a time through one reused buffer, yielding to the event
 * loop every few MiB. Unreadable or vanished files map to undefined.
 */
export async function hashFiles(paths: Iterable<string>): Promise<Map<string, string | undefined>> {
  const hashes = new Map<string, string | undefined>();
  const buffer = Buffer.allocUnsafe(CHUNK);
  const overBudget = turnBudget(BYTES_PER_TURN);
  for (const path of paths) {
    if (hashes.has(path)) continue;
    const hash = createHash('sha256');
    const bytes = readFileChunks(path, buffer, (filled) => {
      hash.update(filled);
      return 0;
    });
    hashes.set(path, bytes === undefined ? undefined : hash.digest('hex'));
    if (overBudget((bytes ?? 0) + FILE_COST)) await nextTurn();
  }
  return hashes;
}
