import { closeSync } from 'node:fs';
import { openRegular, readAt } from '../safe-fs/read-regular.js';

/** Files above this are judged by identity alone unless the config says otherwise (limits.compareMaxBytes). */
const DEFAULT_COMPARE_MAX_BYTES = 64 * 1024 * 1024;

const SAMPLE = 1 << 16;
const CHUNK = 1 << 20;

/** A comparison's answer: equal or not, 'too-large' (judged by identity), undefined (unreadable). */
export type SameContent = boolean | 'too-large' | undefined;

/**
 * Compares a held file with the one now at its path without trusting either: both opened
 * non-blocking and checked to be regular files (a FIFO swapped in can't stall the scan), the
 * current one without following a link and only when it is still the inode that was stat()ed.
 * Size first, then a bounded sample (head and tail), then sha256 of each, cached per (dev, inode);
 * above `maxBytes` nothing is read.
 */
export class ContentComparer {
  private readonly hashes = new Map<string, string | undefined>();

  constructor(private readonly maxBytes: number = DEFAULT_COMPARE_MAX_BYTES) {}

  same(heldPath: string, currentPath: string, current: { ino: number; size: number }): SameContent {
    if (current.size > this.maxBytes) return 'too-large';
    const held = openRegular(heldPath, { follow: true });
    if (!held.ok) return undefined;
    const now = openRegular(currentPath);
    try {
      if (!now.ok || now.stat.ino !== current.ino) return undefined;
      if (held.stat.size !== now.stat.size) return false;
      if (held.stat.size > this.maxBytes) return 'too-large';
      if (!samplesEqual(held.fd, now.fd, held.stat.size)) return false;
      // A small file's sample was the whole of it: no second read to hash it.
      if (held.stat.size <= 2 * SAMPLE) return true;
      const a = this.hashOf(held.fd, `${held.stat.dev}:${held.stat.ino}`, held.stat.size);
      const b = this.hashOf(now.fd, `${now.stat.dev}:${now.stat.ino}`, now.stat.size);
      return a === undefined || b === undefined ? undefined : a === b;
    } finally {
      closeSync(held.fd);
      if (now.ok) closeSync(now.fd);
    }
  }

  private hashOf(fd: number, key: string, size: number): string | undefined {
    if (this.hashes.has(key)) return this.hashes.get(key);
    let digest: string | undefined;
    try {
      digest = hashBounded(fd, size);
    } catch {
      digest = undefined;
    }
    this.hashes.set(key, digest);
    return digest;
  }
}

function samplesEqual(a: number, b: number, size: number): boolean {
  const positions = size <= 2 * SAMPLE ? [0] : [0, size - SAMPLE];
  const bufA = Buffer.allocUnsafe(Math.min(size, 2 * SAMPLE));
  const bufB = Buffer.allocUnsafe(bufA.length);
  for (const position of positions) {
    const length = positions.length === 1 ? bufA.length : SAMPLE;
    const n = readAt(a, bufA.subarray(0, length), position);
    const m = readAt(b, bufB.subarray(0, length), position);
    if (n !== m || bufA.compare(bufB, 0, m, 0, n) !== 0) return false;
  }
  return true;
}

/** sha256 of the first `size` bytes: reads never go past the size fstat gave. */
function hashBounded(fd: number, size: number): string {
  // node:crypto costs every scan ~7 ms to load; only a large replaced file needs it.
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  for (let position = 0; position < size; ) {
    const n = readAt(fd, buffer.subarray(0, Math.min(buffer.length, size - position)), position);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    position += n;
  }
  return hash.digest('hex');
}
