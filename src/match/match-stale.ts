import { ownerOf } from '../owner/owner-of.js';
import type { FileRef, ProcessImage } from '../types/process.js';
import { indexChangeSet, type ChangeIndex, type IndexedChanges } from './changeset-index.js';
import { holdsCurrent, needsDiskFact, type DiskFact, type DiskFacts, type MatchPolicy } from './disk-fact.js';
import { DEFAULT_SCRATCH_DIRS } from './filters.js';
import type { StaleFile, StaleKind, StaleProcess } from '../types/stale.js';

export interface MatchOptions {
  changeSet?: IndexedChanges | undefined;
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
  const change = changes.lookup(ref.path);
  if (change?.kind === 'left-generation') return { ...heldFile(ref, 'left-generation'), storePath: change.storePath };
  if (change?.kind === 'removed') return heldFile(ref, 'removed');
  if (change?.kind === 'changed' && change.newPath !== ref.path) {
    return { ...heldFile(ref, 'changed'), new: { path: change.newPath } };
  }
  // Most held files are current: decided before any object is made.
  const fact = disk.get(ref);
  if (!fact || holdsCurrent(ref, fact) || fact.sameContent) return undefined;
  const now = fact.current ? { path: ref.path, dev: fact.current.dev, ino: fact.current.ino } : undefined;
  if (change?.kind === 'changed') return withNew(heldFile(ref, 'changed'), now, fact);
  if (ref.via === 'cwd') return undefined;
  if (ref.deleted) {
    // A deleted file the process writes, or shares writable, is its own data, not installed software.
    if (fact.writable || (ref.perms?.[1] === 'w' && ref.perms[3] === 's')) return undefined;
    return withNew(heldFile(ref, 'deleted'), now, fact);
  }
  return now ? withNew(heldFile(ref, 'replaced'), now, fact) : undefined;
}

/** The evidence every stale file starts with: path, how it is held, the held identity, the kind. */
function heldFile(ref: FileRef, kind: StaleKind): StaleFile {
  const old: StaleFile['old'] = {};
  if (ref.dev !== undefined) old.dev = ref.dev;
  if (ref.ino !== undefined) old.ino = ref.ino;
  return { path: ref.path, via: ref.via, old, kind };
}

function withNew(file: StaleFile, now: StaleFile['new'] | undefined, fact?: DiskFact): StaleFile {
  if (now) file.new = now;
  if (fact?.identityOnly) file.identityOnly = true;
  return file;
}
