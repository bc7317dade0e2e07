import type { FileRef } from '../types/process.js';
import type { ChangeIndex } from './changeset-index.js';
import { isNeverSoftware, isUnder } from './filters.js';

/** What the disk says about one held file, gathered by the IO layer (scan/disk-facts.ts). */
export interface DiskFact {
  /** The file now at the held path (through the process's root), or null when there is none. */
  current: { dev: string; ino: number; size: number } | null;
  /** The name really ends in " (deleted)": the kernel's marker was part of the file name. */
  literal?: boolean;
  /** The held bytes equal the bytes now at the path (a byte-identical reinstall is not stale). */
  sameContent?: boolean;
  /** Too large to compare (limits.compareMaxBytes): judged by identity alone, said in the report. */
  identityOnly?: boolean;
  /** fd only: opened for writing (the process's own data file, not installed software). */
  writable?: boolean;
}

export type DiskFacts = Map<FileRef, DiskFact>;

export interface MatchPolicy {
  /** Deleted or replaced files here are ignored unless the ChangeSet names them. */
  scratchDirs: readonly string[];
}

/**
 * Whether deciding about `ref` needs the disk: the same rule the IO layer uses to pick what to
 * stat, and the matcher uses to read the answer, so the two never disagree.
 */
export function needsDiskFact(ref: FileRef, changes: ChangeIndex, policy: MatchPolicy): boolean {
  if (isNeverSoftware(ref.path)) return false;
  const change = changes.lookup(ref.path);
  if (change) return change.kind === 'changed' && change.newPath === ref.path;
  if (ref.via === 'cwd') return false;
  return !isUnder(ref.path, policy.scratchDirs);
}

/** The held inode is the one at the path now (device numbers may differ across overlay/btrfs views). */
export function holdsCurrent(ref: FileRef, fact: DiskFact): boolean {
  if (fact.literal) return true;
  if (ref.deleted || !fact.current) return false;
  return ref.ino === undefined || ref.ino === fact.current.ino;
}
