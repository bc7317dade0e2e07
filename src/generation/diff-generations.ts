import { completeChangeSet, draftChangeSet } from '../diff/draft-changeset.js';
import { byRel } from '../diff/by-rel.js';
import { hashFiles } from './hash-files.js';
import { resolveDirRoot } from './load-dir.js';
import { detectSource, loadGeneration, type LoadOptions } from './load-generation.js';
import { diffDirTrees } from './parallel-diff.js';
import type { ChangeSet, Generation } from '../types/generation.js';

export interface DiffOptions extends LoadOptions {
  /** Two directory trees: walk them with a second thread too; 'auto' (default) once the trees prove big enough. */
  parallel?: boolean | 'auto';
}

// Whether a generation named by path is a directory tree (given, or detected).
async function isDirPath(path: string, options: DiffOptions): Promise<boolean> {
  if (options.source !== undefined) return options.source === 'dir';
  return (await detectSource(path, options.storeDir)).source === 'dir';
}

// Two directory trees are diffed in one paired walk, without loading either as a Generation.
async function diffDirs(oldPath: string, newPath: string, parallel: boolean | 'auto'): Promise<ChangeSet> {
  const [oldRoot, newRoot] = await Promise.all([resolveDirRoot(oldPath), resolveDirRoot(newPath)]);
  const diff = await diffDirTrees({ path: oldPath, root: oldRoot }, { path: newPath, root: newRoot }, parallel);
  return {
    old: { source: 'dir', path: oldPath },
    new: { source: 'dir', path: newPath },
    changed: diff.changed.sort(byRel),
    removed: diff.removed.sort(byRel),
    added: diff.added.sort(byRel),
    unchanged: diff.unchanged,
  };
}

/**
 * Diffs two generations (paths are loaded with `loadGeneration`; sources may differ). Files are
 * compared cheapest first — inode, symlink target, size — and only the remaining pairs are read.
 * For two nix generations the ChangeSet also lists the store paths that left the closure.
 */
export async function diffGenerations(oldGeneration: string | Generation, newGeneration: string | Generation, options: DiffOptions = {}): Promise<ChangeSet> {
  if (typeof oldGeneration === 'string' && typeof newGeneration === 'string') {
    const [oldIsDir, newIsDir] = await Promise.all([isDirPath(oldGeneration, options), isDirPath(newGeneration, options)]);
    if (oldIsDir && newIsDir) return diffDirs(oldGeneration, newGeneration, options.parallel ?? 'auto');
  }
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
