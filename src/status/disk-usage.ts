/** What disk accounting needs of a file: its inode (when known), size, and whether it is a symlink. */
export interface CountedFile {
  path: string;
  size: number;
  dev?: number;
  ino?: number;
  link?: string;
}

export interface GenerationBytes {
  bytes: number;
  uniqueBytes: number;
  sharedWithCurrentBytes: number;
}

export interface DiskUsage {
  perGeneration: GenerationBytes[];
  reclaimableBytes: number;
}

interface InodeEntry {
  size: number;
  /** Generation indices referencing the inode, each once. */
  gens: number[];
}

/**
 * Disk per generation, counted once per inode: sizes in bytes of regular files (symlinks and
 * directories are not counted; a file without an inode number counts by path). An inode is unique
 * to a generation when no other generation given references it. Pure; feed generations one at a
 * time with `add` so only one file listing is alive at once.
 */
export class DiskTally {
  readonly #inodes = new Map<string, InodeEntry>();
  #count = 0;

  /** Adds generation number `index` (0, 1, 2, … in order) with its files. */
  add(files: Iterable<CountedFile>): number {
    const index = this.newGeneration();
    this.addShared(files, [index]);
    return index;
  }

  /** Makes room for a generation whose files come through addShared; returns its index. */
  newGeneration(): number {
    return this.#count++;
  }

  /** Files several generations hold (a store path in several closures): walked once, counted for each. */
  addShared(files: Iterable<CountedFile>, generations: readonly number[]): void {
    for (const f of files) {
      if (f.link !== undefined || f.size < 0) continue;
      const key = f.dev !== undefined && f.ino !== undefined ? `${f.dev}:${f.ino}` : `path:${f.path}`;
      const entry = this.#inodes.get(key);
      if (!entry) this.#inodes.set(key, { size: f.size, gens: [...generations] });
      else for (const g of generations) if (!entry.gens.includes(g)) entry.gens.push(g);
    }
  }

  /** The totals, relative to generation `current` (undefined: no current one, shared bytes stay 0). */
  result(current: number | undefined): DiskUsage {
    const perGeneration = Array.from({ length: this.#count }, () => ({ bytes: 0, uniqueBytes: 0, sharedWithCurrentBytes: 0 }));
    let reclaimableBytes = 0;
    for (const { size, gens } of this.#inodes.values()) {
      const inCurrent = current !== undefined && gens.includes(current);
      if (!inCurrent) reclaimableBytes += size;
      for (const g of gens) {
        const totals = perGeneration[g];
        if (!totals) continue;
        totals.bytes += size;
        if (gens.length === 1) totals.uniqueBytes += size;
        if (inCurrent) totals.sharedWithCurrentBytes += size;
      }
    }
    return { perGeneration, reclaimableBytes };
  }
}
