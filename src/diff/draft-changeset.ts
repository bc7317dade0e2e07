import type { ChangeSet, FileChangeChanged, Generation, GenerationFile } from '../types/generation.js';
import { byRel } from './by-rel.js';
import { compareFiles, compareHashes } from './compare-files.js';
import { alignStoreFiles } from './store-pairing.js';

/** An old file and its new counterpart (same `rel`). */
export interface FilePair {
  rel: string;
  old: GenerationFile;
  new: GenerationFile;
}

/**
 * A diff decided as far as possible without reading file contents: `changeSet` holds everything
 * settled, `needsHash` the pairs only a content hash can decide.
 */
export interface DraftChangeSet {
  changeSet: ChangeSet;
  needsHash: FilePair[];
}

/** Looks up a file's content hash (hex sha256); undefined when it could not be read. */
export type HashOf = (file: GenerationFile) => string | undefined;


interface ClosurePair {
  old: ReadonlySet<string>;
  new: ReadonlySet<string>;
  storeDir: string;
}

// Both generations are nix closures in the same store: store paths pair by name.
function closurePair(oldGen: Generation, newGen: Generation): ClosurePair | undefined {
  const { closure: oldClosure, storeDir } = oldGen;
  const newClosure = newGen.closure;
  if (!oldClosure || !newClosure || storeDir === undefined || storeDir !== newGen.storeDir) return undefined;
  return { old: oldClosure, new: newClosure, storeDir };
}

/**
 * First pass of a diff: pairs files by `rel` (for two nix generations, after pairing store paths
 * by name) and decides every pair that needs no reading. Pure.
 */
export function draftChangeSet(oldGen: Generation, newGen: Generation): DraftChangeSet {
  const closures = closurePair(oldGen, newGen);
  const newFiles = closures ? alignStoreFiles(closures.old, closures.new, newGen.files, closures.storeDir) : newGen.files;
  const changeSet: ChangeSet = {
    old: { source: oldGen.source, path: oldGen.path },
    new: { source: newGen.source, path: newGen.path },
    changed: [],
    removed: [],
    added: [],
    unchanged: 0,
  };
  const needsHash: FilePair[] = [];
  for (const [rel, oldFile] of oldGen.files) {
    const newFile = newFiles.get(rel);
    if (!newFile) {
      changeSet.removed.push({ rel, path: oldFile.path });
      continue;
    }
    const verdict = compareFiles(oldFile, newFile);
    if (verdict.kind === 'unchanged') changeSet.unchanged++;
    else if (verdict.kind === 'changed') changeSet.changed.push({ rel, oldPath: oldFile.path, newPath: newFile.path });
    else needsHash.push({ rel, old: oldFile, new: newFile });
  }
  for (const [rel, newFile] of newFiles) {
    if (!oldGen.files.has(rel)) changeSet.added.push({ rel, path: newFile.path });
  }
  changeSet.removed.sort(byRel);
  changeSet.added.sort(byRel);
  if (closures) changeSet.leftGeneration = [...closures.old].filter((storePath) => !closures.new.has(storePath)).sort();
  const storeDir = oldGen.storeDir ?? newGen.storeDir;
  if (storeDir !== undefined) changeSet.storeDir = storeDir;
  return { changeSet, needsHash };
}

/**
 * Second pass: decides the remaining pairs from their hashes. A file whose hash is unknown
 * (unreadable, vanished) counts as changed: restarting needlessly is safer than missing one.
 */
export function completeChangeSet(draft: DraftChangeSet, hashOf: HashOf): ChangeSet {
  const changed: FileChangeChanged[] = [...draft.changeSet.changed];
  let unchanged = draft.changeSet.unchanged;
  for (const pair of draft.needsHash) {
    const oldHash = pair.old.sha256 ?? hashOf(pair.old);
    const newHash = pair.new.sha256 ?? hashOf(pair.new);
    const same = oldHash !== undefined && newHash !== undefined && compareHashes(oldHash, newHash).kind === 'unchanged';
    if (same) unchanged++;
    else changed.push({ rel: pair.rel, oldPath: pair.old.path, newPath: pair.new.path });
  }
  return { ...draft.changeSet, changed: changed.sort(byRel), unchanged };
}
