import { stat } from 'node:fs/promises';
import { errnoCode } from '../errors.js';
import { generationError, resolveGenerationPath } from './resolve-path.js';
import type { Generation, GenerationFile } from '../types/generation.js';
import { walkTree, type TreeListing } from './walk-tree.js';

/** The real path of a dir generation's root (a `current` link resolved); BAD_GENERATION when not a directory. */
export async function resolveDirRoot(path: string): Promise<string> {
  const root = await resolveGenerationPath(path);
  if (!(await stat(root)).isDirectory()) throw generationError(path, `${root} is not a directory`);
  return root;
}

/**
 * A directory generation. A root that is a symlink (`current` → `releases/v42`) is resolved, so
 * file paths are the real paths processes show in /proc.
 */
export async function loadDir(path: string): Promise<Generation> {
  const root = await resolveDirRoot(path);
  let listing: TreeListing;
  try {
    listing = await walkTree(root);
  } catch (error) {
    throw generationError(path, `cannot walk ${root} (${errnoCode(error) ?? String(error)})`, error);
  }
  const files = new Map<string, GenerationFile>();
  for (const file of listing.entries) files.set(file.rel, file);
  const generation: Generation = { source: 'dir', path, files };
  if (listing.unreadable.length > 0) generation.unreadable = listing.unreadable.sort();
  return generation;
}
