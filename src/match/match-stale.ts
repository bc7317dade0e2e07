import type { ChangeSet } from '../generation/types.js';
import { ownerOf } from '../owner/owner-of.js';
import type { FileRef, ProcessImage } from '../scan/types.js';
import { indexChangeSet, type ChangeIndex } from './changeset-index.js';
import { holdsCurrent, needsDiskFact, type DiskFacts, type MatchPolicy } from './disk-fact.js';
import { DEFAULT_SCRATCH_DIRS } from './filters.js';
import type { StaleFile, StaleProcess } from './types.js';

export interface MatchOptions {
  changeSet?: ChangeSet | undefined;
  /** Disk facts for the refs that need them (see needsDiskFact). */
  disk: DiskFacts;
  scratchDirs?: readonly string[];
}

/** Finds the stale processes and, for each, the held files that make it stale. Pure. */
export function matchStale(images: readonly ProcessImage[], options: MatchOptions): StaleProcess[] {
  const staleFiles = createStaleFileMatcher(options);
  const stale: StaleProcess[] = [];
  for (const image of images) {
    const files = staleFiles(image);
    if (files.length > 0) stale.push(toStaleProcess(image, files));
  }
  return stale;
}

/** The per-process half of matchStale: the stale files of one image (none for kernel threads). */
export function createStaleFileMatcher(options: MatchOptions): (image: ProcessImage) => StaleFile[] {
  const changes = indexChangeSet(options.changeSet);
  const policy: MatchPolicy = { scratchDirs: options.scratchDirs ?? DEFAULT_SCRATCH_DIRS };
  return (image) => (image.kernelThread ? [] : staleFilesOf(image, changes, policy, options.disk));
}

export function toStaleProcess(image: ProcessImage, files: StaleFile[]): StaleProcess {
  return {
    pid: image.pid,
    ppid: image.ppid,
    startTime: image.startTime,
    uid: image.uid,
    comm: image.comm,
    exe: image.exe,
    owner: ownerOf(image),
    files,
  };
}

function staleFilesOf(image: ProcessImage, changes: ChangeIndex, policy: MatchPolicy, disk: DiskFacts): StaleFile[] {
  const byPath = new Map<string, StaleFile>();
  for (const ref of image.files) {
    if (byPath.has(ref.path)) continue;
    if (!changes.lookup(ref.path) && !needsDiskFact(ref, changes, policy)) continue;
    const file = judge(ref, changes, disk);
    if (file) byPath.set(ref.path, file);
  }
  return [...byPath.values()];
}

function judge(ref: FileRef, changes: ChangeIndex, disk: DiskFacts): StaleFile | undefined {
  const old = { ...(ref.dev === undefined ? {} : { dev: ref.dev }), ...(ref.ino === undefined ? {} : { ino: ref.ino }) };
  const base = { path: ref.path, via: ref.via, old };
  const change = changes.lookup(ref.path);
  if (change?.kind === 'left-generation') return { ...base, kind: 'left-generation', storePath: change.storePath };
  if (change?.kind === 'removed') return { ...base, kind: 'removed' };
  if (change?.kind === 'changed' && change.newPath !== ref.path) {
    return { ...base, kind: 'changed', new: { path: change.newPath } };
  }
  const fact = disk.get(ref);
  if (!fact || holdsCurrent(ref, fact) || fact.sameContent) return undefined;
  const now = fact.current ? { path: ref.path, dev: fact.current.dev, ino: fact.current.ino } : undefined;
  if (change?.kind === 'changed') return { ...base, kind: 'changed', ...(now ? { new: now } : {}) };
  if (ref.via === 'cwd') return undefined;
  if (ref.deleted) {
    // A deleted file the process writes, or shares writable, is its own data, not installed software.
    if (fact.writable || (ref.perms?.[1] === 'w' && ref.perms[3] === 's')) return undefined;
    return { ...base, kind: 'deleted', ...(now ? { new: now } : {}) };
  }
  return now ? { ...base, kind: 'replaced', new: now } : undefined;
}
