import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { compareFiles } from '../diff/compare-files.js';
import { errnoCode } from '../errors.js';
import type { FileChangeChanged, FileChangeRemoved, GenerationFile } from '../types/generation.js';
import { compareBuffers, sameContents, type CompareBuffers } from './compare-contents.js';
import { generationError } from './resolve-path.js';
import { turnBudget } from './sync-reads.js';
import { walkTree } from './walk-tree.js';

/** One side of a dir-to-dir diff: what the user named and the real root it resolved to. */
export interface DirSide {
  path: string;
  root: string;
}

/** The file-level part of a ChangeSet, unsorted. */
export interface DirTreeDiff {
  changed: FileChangeChanged[];
  removed: FileChangeRemoved[];
  added: FileChangeRemoved[];
  unchanged: number;
}

// Entries that vanish mid-walk are a race, not an error; unreadable ones are simply not there.
const SKIPPED = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);
const ENTRIES_PER_TURN = 2048;

function emptyDiff(): DirTreeDiff {
  return { changed: [], removed: [], added: [], unchanged: 0 };
}

/** Adds `part` (another thread's share) to `into`. */
export function mergeDiff(into: DirTreeDiff, part: DirTreeDiff): void {
  // A loop, not push(...): a share may hold more entries than a call takes arguments.
  for (const change of part.changed) into.changed.push(change);
  for (const file of part.removed) into.removed.push(file);
  for (const file of part.added) into.added.push(file);
  into.unchanged += part.unchanged;
}
// Bytes compared count against the same budget, one entry per this many.
const BYTES_PER_ENTRY = 16 * 1024;

function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function listNames(side: DirSide, dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (SKIPPED.has(errnoCode(error) ?? '')) return [];
    throw generationError(side.path, `cannot walk ${dir} (${errnoCode(error) ?? String(error)})`, error);
  }
}

// lstat, with entries that vanished or cannot be stat()ed treated as absent.
function lstatQuietly(side: DirSide, path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if (SKIPPED.has(errnoCode(error) ?? '')) return undefined;
    throw generationError(side.path, `cannot stat ${path} (${errnoCode(error) ?? String(error)})`, error);
  }
}

// A regular file or symlink as a GenerationFile; undefined for what a generation does not list.
function toFile(path: string, rel: string, stats: Stats | undefined): GenerationFile | undefined {
  if (!stats || !(stats.isFile() || stats.isSymbolicLink())) return undefined;
  const file: GenerationFile = { path, rel, size: stats.size, dev: stats.dev, ino: stats.ino };
  if (stats.isSymbolicLink()) {
    try {
      file.link = readlinkSync(path);
    } catch {
      return undefined;
    }
  }
  return file;
}

/**
 * The paired walk of two directory trees, directory by directory: names pair by relative path and
 * each pair is decided cheapest first (same dev+inode, symlink target, size); only same-size files
 * are read, side by side, up to the first differing byte. Nothing is kept per unchanged file.
 * `dirs` holds the directories (rel) still to walk on both sides, so two threads can share them.
 */
export class PairedWalk {
  diff: DirTreeDiff = emptyDiff();
  /** Directories present on both sides, not walked yet (rel; '' is the root). */
  readonly dirs: string[] = [];
  /** Entries walked so far. */
  entries = 0;
  private readonly buffers: CompareBuffers = compareBuffers();
  private readonly overBudget = turnBudget(ENTRIES_PER_TURN);
  // Subtrees present on one side only, listed with walkTree once the paired walk is done.
  private readonly oneSided: { side: 'old' | 'new'; path: string; rel: string }[] = [];

  /** `onTurn` runs after each directory and each time the walk yields to the event loop (about every 2048 entries). */
  constructor(
    private readonly oldSide: DirSide,
    private readonly newSide: DirSide,
    private readonly onTurn: () => void = () => undefined,
  ) {}

  /** Walks until no directory is left, then lists the one-sided subtrees it met. */
  async drain(): Promise<void> {
    for (let rel = this.dirs.pop(); rel !== undefined; rel = this.dirs.pop()) {
      await this.walkDir(rel);
      this.onTurn();
    }
    for (const subtree of this.oneSided.splice(0)) await this.listOneSided(subtree.side, subtree.path, subtree.rel);
  }

  /** The diff so far, handed over (the walk starts a new one). */
  takeDiff(): DirTreeDiff {
    const diff = this.diff;
    this.diff = emptyDiff();
    return diff;
  }

  /** Gives away half of the directories not walked yet: the oldest, the biggest subtrees of a depth-first walk. */
  shareHalf(): string[] {
    return this.dirs.length < 2 ? [] : this.dirs.splice(0, Math.floor(this.dirs.length / 2));
  }

  private async walkDir(rel: string): Promise<void> {
    const oldDir = rel === '' ? this.oldSide.root : joinPath(this.oldSide.root, rel);
    const newDir = rel === '' ? this.newSide.root : joinPath(this.newSide.root, rel);
    const newNames = new Set(listNames(this.newSide, newDir));
    for (const name of listNames(this.oldSide, oldDir)) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const cost = this.pair(oldDir, newDir, name, childRel, newNames.delete(name));
      this.entries++;
      if (this.overBudget(cost)) {
        await nextTurn();
        this.onTurn();
      }
    }
    for (const name of newNames) this.oneSide('new', joinPath(newDir, name), rel === '' ? name : `${rel}/${name}`);
  }

  // Decides one name of a directory present on both sides; returns its cost for the turn budget.
  private pair(oldDir: string, newDir: string, name: string, rel: string, inNew: boolean): number {
    const oldPath = joinPath(oldDir, name);
    const newPath = joinPath(newDir, name);
    const oldStats = lstatQuietly(this.oldSide, oldPath);
    if (!inNew) {
      this.oneSide('old', oldPath, rel, oldStats);
      return 1;
    }
    const newStats = lstatQuietly(this.newSide, newPath);
    if (oldStats?.isDirectory() && newStats?.isDirectory()) {
      this.dirs.push(rel);
      return 1;
    }
    const oldFile = toFile(oldPath, rel, oldStats);
    const newFile = toFile(newPath, rel, newStats);
    if (!oldFile || !newFile) {
      this.oneSide('old', oldPath, rel, oldStats);
      this.oneSide('new', newPath, rel, newStats);
      return 1;
    }
    const verdict = compareFiles(oldFile, newFile);
    let same = verdict.kind === 'unchanged';
    if (verdict.kind === 'needs-hash') same = sameContents(oldPath, newPath, oldFile.size, this.buffers);
    if (same) this.diff.unchanged++;
    else this.diff.changed.push({ rel, oldPath, newPath });
    return verdict.kind === 'needs-hash' ? 1 + Math.floor(oldFile.size / BYTES_PER_ENTRY) : 1;
  }

  // An entry on one side only: a file is removed/added at once, a directory is listed later.
  private oneSide(side: 'old' | 'new', path: string, rel: string, known?: Stats): void {
    const stats = known ?? lstatQuietly(side === 'old' ? this.oldSide : this.newSide, path);
    if (stats?.isDirectory()) this.oneSided.push({ side, path, rel });
    else if (toFile(path, rel, stats)) (side === 'old' ? this.diff.removed : this.diff.added).push({ rel, path });
  }

  private async listOneSided(side: 'old' | 'new', path: string, rel: string): Promise<void> {
    const owner = side === 'old' ? this.oldSide : this.newSide;
    const listing = await walkTree(path, rel).catch((error: unknown) => {
      throw generationError(owner.path, `cannot walk ${path} (${errnoCode(error) ?? String(error)})`, error);
    });
    const into = side === 'old' ? this.diff.removed : this.diff.added;
    for (const file of listing.entries) into.push({ rel: file.rel, path: file.path });
  }
}

