import type { Owner } from './owner.js';
import type { FileVia } from './process.js';

/**
 * Why a held file is stale:
 * - deleted: the kernel says the held inode lost its name, and nothing byte-identical took its place;
 * - replaced: another inode (with other content) is now at the held path;
 * - changed / removed: the ChangeSet says so for the held path;
 * - left-generation: the held path is in a store path of the old closure and not the new one;
 * - modified-after-start: (interpreted programs, no ChangeSet) the source file changed after the process started.
 */
export type StaleKind = 'deleted' | 'replaced' | 'changed' | 'removed' | 'left-generation' | 'modified-after-start';

export interface StaleFile {
  path: string;
  kind: StaleKind;
  via: FileVia;
  /** Identity of the held (old) file. */
  old?: { dev?: string; ino?: number };
  /** What is at the path now, or the ChangeSet's new path. */
  new?: { path?: string; dev?: string; ino?: number };
  /** left-generation: the old store path. */
  storePath?: string;
  /** modified-after-start: the file's ctime and the process's start, in ms since the epoch. */
  changedAt?: number;
  startedAt?: number;
  /** Larger than limits.compareMaxBytes: the bytes were not compared, the file is judged by identity alone. */
  identityOnly?: true;
}

/** A ProcessImage plus the evidence. See DESIGN.md "StaleProcess". */
export interface StaleProcess {
  pid: number;
  ppid: number;
  startTime: number;
  uid: number;
  comm: string;
  exe: string | null;
  owner: Owner;
  files: StaleFile[];
}
