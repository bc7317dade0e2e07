import { statSync, type Stats } from 'node:fs';
import { indexChangeSet, type ChangeIndex, type IndexedChanges } from '../match/changeset-index.js';
import { needsDiskFact, type DiskFact, type DiskFacts, type MatchPolicy } from '../match/disk-fact.js';
import { DEFAULT_SCRATCH_DIRS } from '../match/filters.js';
import { fdinfoWritable, formatStatDev } from './parse.js';
import { ProcReader } from './proc-reader.js';
import { ContentComparer, type SameContent } from './same-content.js';
import { viewOf, type ProcessView } from './process-view.js';
import type { FileRef, ProcessImage, ScanResult } from '../types/process.js';

export interface DiskFactOptions {
  procRoot?: string;
  changeSet?: IndexedChanges | undefined;
  scratchDirs?: readonly string[];
  /** Replaced files above this many bytes are judged by identity alone (limits.compareMaxBytes). */
  compareMaxBytes?: number | undefined;
}

/**
 * Looks at the disk for every held file whose verdict depends on it: what is at the path now,
 * whether the kernel's "(deleted)" was part of the name, whether an fd is open for writing, and
 * whether a replaced file's bytes are the same as the held ones.
 */
export function gatherDiskFacts(scan: ScanResult, options: DiskFactOptions = {}): DiskFacts {
  const gatherer = new DiskFactGatherer(scan.self.rootId, options);
  const facts: DiskFacts = new Map();
  for (const image of scan.processes) gatherer.factsOf(image, facts);
  return facts;
}

/**
 * gatherDiskFacts one process at a time (what a scan thread does right after reading it), with
 * the stat and same-bytes caches shared across the processes it is given.
 */
export class DiskFactGatherer {
  private readonly reader: ProcReader;
  private readonly changes: ChangeIndex;
  private readonly policy: MatchPolicy;
  private readonly self: ScanResult['self'];
  /** Keyed by view (mount namespace + root) and path: a path names another file in another view. */
  private readonly statCache = new Map<string, Stats | null>();
  private readonly sameCache = new Map<string, SameContent>();
  private readonly comparer: ContentComparer;

  /** `selfRootId`: the scanner's root identity (ScanResult.self.rootId). */
  constructor(
    selfRootId: string | undefined,
    options: DiskFactOptions = {},
  ) {
    this.reader = new ProcReader(options.procRoot ?? '/proc');
    this.changes = indexChangeSet(options.changeSet);
    this.policy = { scratchDirs: options.scratchDirs ?? DEFAULT_SCRATCH_DIRS };
    this.comparer = new ContentComparer(options.compareMaxBytes);
    // The gatherer runs in the scanning process (a scan worker shares its namespace).
    this.self = { pid: -1, mntNs: this.reader.live ? (this.reader.tryLink('self', 'ns/mnt') ?? null) : null, rootId: selfRootId };
  }

  /** Adds the facts of `image`'s held files that need them to `into`. */
  factsOf(image: ProcessImage, into: DiskFacts): void {
    let view: ProcessView | undefined;
    for (const ref of image.files) {
      if (!needsDiskFact(ref, this.changes, this.policy)) continue;
      view ??= viewOf(this.reader, image, this.self);
      into.set(ref, factFor(this.reader, image, ref, view, this.statCache, this.sameCache, this.comparer));
    }
  }
}

/** stat() of `path` as the view's processes see it, once per (view, path). */
function statPath(view: ProcessView, path: string, cache: Map<string, Stats | null>): Stats | null {
  const key = view.key === '' ? path : `${view.key}\0${path}`;
  let st = cache.get(key);
  if (st === undefined) {
    try {
      st = statSync(view.prefix + path, { throwIfNoEntry: false }) ?? null;
    } catch {
      st = null;
    }
    cache.set(key, st);
  }
  return st;
}

function factFor(
  reader: ProcReader,
  image: ProcessImage,
  ref: FileRef,
  view: ProcessView,
  statCache: Map<string, Stats | null>,
  sameCache: Map<string, SameContent>,
  comparer: ContentComparer,
): DiskFact {
  const { prefix } = view;
  const st = statPath(view, ref.path, statCache);
  const fact: DiskFact = { current: st?.isFile() ? { dev: formatStatDev(st.dev), ino: st.ino, size: st.size } : null };
  if (ref.deleted && ref.ino !== undefined) {
    // A file literally named "x (deleted)" shows the same way as a deleted "x".
    const literal = statPath(view, `${ref.path} (deleted)`, statCache);
    if (literal?.ino === ref.ino) fact.literal = true;
  }
  if (fact.literal) return fact;
  if (ref.via === 'fd' && ref.deleted && ref.fd !== undefined) {
    try {
      fact.writable = fdinfoWritable(reader.read(image.pid, `fdinfo/${ref.fd}`));
    } catch {
      // gone or unreadable: judged without it
    }
  }
  const current = fact.current;
  const replaced = current && (ref.deleted || (ref.ino !== undefined && ref.ino !== current.ino));
  if (replaced) {
    const heldEntry = heldEntryOf(ref);
    if (heldEntry !== undefined) {
      const key = `${ref.dev}:${ref.ino}>${current.dev}:${current.ino}`;
      if (!sameCache.has(key)) {
        const differentSize = ref.size !== undefined && ref.size !== current.size;
        sameCache.set(key, differentSize ? false : comparer.same(reader.path(image.pid, heldEntry), prefix + ref.path, current));
      }
      const same = sameCache.get(key);
      if (same === 'too-large') fact.identityOnly = true;
      else if (same !== undefined) fact.sameContent = same;
    }
  }
  return fact;
}

/** The /proc/PID entry that opens the held inode itself. */
function heldEntryOf(ref: FileRef): string | undefined {
  if (ref.via === 'exe') return 'exe';
  if (ref.via === 'fd') return ref.fd === undefined ? undefined : `fd/${ref.fd}`;
  return ref.range === undefined ? undefined : `map_files/${ref.range}`;
}
