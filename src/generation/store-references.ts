import { readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { readFileChunks } from './sync-reads.js';

const HASH_LENGTH = 32;
const HASH_CHAR = /^[0-9a-z]$/;
const NAME_CHAR = /^[A-Za-z0-9+\-._?=]$/;

/** A store dir's entries by hash, for telling which store path a reference names. */
export interface StoreIndex {
  storeDir: string;
  /** `<storeDir>/` as bytes: what a reference starts with. */
  needle: Buffer;
  /** hash → basenames (`<hash>-<name>`) with that hash. */
  byHash: Map<string, string[]>;
}

/** Lists the store dir once; entries that are not `<hash>-<name>` (and `.lock` files) are left out. */
export async function readStoreIndex(storeDir: string): Promise<StoreIndex> {
  const byHash = new Map<string, string[]>();
  for (const base of await readdir(storeDir)) {
    if (!/^[0-9a-z]{32}-/.test(base) || base.endsWith('.lock')) continue;
    const hash = base.slice(0, HASH_LENGTH);
    byHash.set(hash, [...(byHash.get(hash) ?? []), base]);
  }
  return { storeDir, needle: Buffer.from(`${storeDir}/`), byHash };
}

// The store path a reference names, given the text right after `<storeDir>/`.
function resolveReference(store: StoreIndex, after: string): string | undefined {
  const hash = after.slice(0, HASH_LENGTH);
  if (hash.length < HASH_LENGTH || ![...hash].every((c) => HASH_CHAR.test(c))) return undefined;
  const candidates = store.byHash.get(hash);
  if (!candidates) return undefined;
  // Several entries can share a hash (`foo` and `foo.drv`): take the one the text spells out.
  let end = HASH_LENGTH;
  while (end < after.length && NAME_CHAR.test(after[end] ?? '')) end++;
  const spelled = after.slice(0, end);
  const base = candidates.find((c) => c === spelled) ?? candidates.find((c) => spelled.startsWith(c)) ?? candidates[0];
  return base === undefined ? undefined : `${store.storeDir}/${base}`;
}

// Store paths referenced in a buffer (every occurrence of `<storeDir>/<hash>`). Returns where scanning stopped.
function scanBuffer(store: StoreIndex, bytes: Buffer, found: Set<string>): number {
  const { needle } = store;
  let at = bytes.indexOf(needle);
  while (at !== -1) {
    const start = at + needle.length;
    if (start + HASH_LENGTH > bytes.length) return at;
    const storePath = resolveReference(store, bytes.toString('latin1', start, Math.min(bytes.length, start + 256)));
    if (storePath !== undefined) found.add(storePath);
    at = bytes.indexOf(needle, start);
  }
  return Math.max(0, bytes.length - needle.length - HASH_LENGTH);
}

/**
 * Adds the store paths a file's bytes refer to, read through `buffer` (a tail is carried across
 * fills so a reference split by a chunk boundary is still found). Returns the bytes read, or
 * undefined for a file that vanished or cannot be read (it then adds nothing).
 */
export function scanFileReferences(store: StoreIndex, path: string, found: Set<string>, buffer: Buffer): number | undefined {
  return readFileChunks(path, buffer, (filled) => filled.length - scanBuffer(store, filled, found));
}

/** Adds the store paths a symlink target refers to, absolute or relative to the link's dir. */
export function scanLinkReferences(store: StoreIndex, linkPath: string, target: string, found: Set<string>): void {
  const texts = [target, resolve(dirname(linkPath), target)];
  for (const text of texts) scanBuffer(store, Buffer.from(text), found);
}
