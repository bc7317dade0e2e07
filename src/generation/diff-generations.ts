import { completeChangeSet, draftChangeSet } from '../diff/draft-changeset.js';
import { hashFiles } from './hash-files.js';
import { loadGeneration, type LoadOptions } from './load-generation.js';
import type { ChangeSet, Generation } from '../types/generation.js';

export type DiffOptions = LoadOptions;

/**
 * Diffs two generations (paths are loaded with `loadGeneration`; sources may differ). Files are
 * compared cheapest first — inode, symlink target, size — and only the remaining pairs are hashed.
 * For two nix generations the ChangeSet also lists the store paths that left the closure.
 */
export async function diffGenerations(oldGeneration: string | Generation, newGeneration: string | Generation, options: DiffOptions = {}): Promise<ChangeSet> {
  const load = (generation: string | Generation): Promise<Generation> =>
    typeof generation === 'string' ? loadGeneration(generation, options) : Promise.resolve(generation);
  const [oldGen, newGen] = await Promise.all([load(oldGeneration), load(newGeneration)]);
  const draft = draftChangeSet(oldGen, newGen);
  const toHash: string[] = [];
  for (const pair of draft.needsHash) {
    if (pair.old.sha256 === undefined) toHash.push(pair.old.path);
    if (pair.new.sha256 === undefined) toHash.push(pair.new.path);
  }
  const hashes = await hashFiles(toHash);
  return completeChangeSet(draft, (file) => hashes.get(file.path));
}
