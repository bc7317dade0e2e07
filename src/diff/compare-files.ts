import type { GenerationFile } from '../types/generation.js';

/** Marks a size that is not known (a manifest entry without `size`). */
export const UNKNOWN_SIZE = -1;

/**
 * How one old file compares with its new counterpart, decided cheapest first:
 * same (dev, ino) → symlink targets → size → content hash.
 */
export type FileVerdict =
  | { kind: 'unchanged'; by: 'inode' | 'link' | 'hash' }
  | { kind: 'changed'; by: 'type' | 'link' | 'size' | 'hash' }
  | { kind: 'needs-hash' };

/** Compares two files without reading them; `sha256` is used when both sides carry one. */
export function compareFiles(oldFile: GenerationFile, newFile: GenerationFile): FileVerdict {
  if (oldFile.ino !== undefined && oldFile.ino === newFile.ino && oldFile.dev === newFile.dev) {
    return { kind: 'unchanged', by: 'inode' };
  }
  if (oldFile.link !== undefined || newFile.link !== undefined) {
    if (oldFile.link === newFile.link) return { kind: 'unchanged', by: 'link' };
    return { kind: 'changed', by: oldFile.link === undefined || newFile.link === undefined ? 'type' : 'link' };
  }
  if (oldFile.size !== UNKNOWN_SIZE && newFile.size !== UNKNOWN_SIZE && oldFile.size !== newFile.size) {
    return { kind: 'changed', by: 'size' };
  }
  if (oldFile.sha256 !== undefined && newFile.sha256 !== undefined) return compareHashes(oldFile.sha256, newFile.sha256);
  return { kind: 'needs-hash' };
}

/** The last step of the ladder, once both hashes are known. */
export function compareHashes(oldHash: string, newHash: string): FileVerdict {
  return oldHash.toLowerCase() === newHash.toLowerCase()
    ? { kind: 'unchanged', by: 'hash' }
    : { kind: 'changed', by: 'hash' };
}
