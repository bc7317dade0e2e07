import { realpath } from 'node:fs/promises';
import { describeFsError, errnoCode } from '../errors.js';
import { DiskTally, type CountedFile } from './disk-usage.js';
import { listGenerations, type FindGenerationOptions } from './find-generations.js';
import { storeDirOfPath } from '../generation/store-layout.js';
import type { InstalledGeneration, InstalledSource } from '../types/status.js';

export interface MeasureOptions extends FindGenerationOptions {
  /** nix store dir; default: the `…/store` a profile resolves into, else /nix/store. */
  storeDir?: string;
}

// `<anything>/store/<32 hash chars>-<name>`, as load-generation detects a store of its own.

interface Loaded {
  files: CountedFile[];
  closure?: Set<string>;
}

async function loadFiles(kind: InstalledSource['kind'], path: string, storeDir: string | undefined): Promise<Loaded> {
  if (kind === 'nix-profile') {
    // Loaded on demand: closures are only read when there are nix generations.
    const { loadNix } = await import('../generation/load-nix.js');
    const real = await realpath(path);
    const generation = await loadNix(path, storeDirOf(real, storeDir));
    return { files: [...generation.files.values()], ...(generation.closure ? { closure: generation.closure } : {}) };
  }
  const { walkTree } = await import('../generation/walk-tree.js');
  return { files: (await walkTree(await realpath(path))).entries };
}

function describeError(error: unknown): string {
  return errnoCode(error) === 'ENOENT' ? 'does not exist (a dangling link?)' : describeFsError(error);
}

function storeDirOf(real: string | undefined, storeDir: string | undefined): string {
  return storeDir ?? (real === undefined ? undefined : storeDirOfPath(real)) ?? '/nix/store';
}

// With nix-store, closures come from the database and each store path is walked once, however many
// generations hold it (50 generations share most of their closure); undefined when that fails.
async function measureNixByStorePath(source: InstalledSource, tally: DiskTally, storeDir: string | undefined): Promise<Array<Set<string>> | undefined> {
  const current = source.generations.find((g) => g.current) ?? source.generations[0];
  const dir = storeDirOf(current === undefined ? undefined : await realpath(current.path).catch(() => undefined), storeDir);
  const { queryRequisites } = await import('../generation/nix-closure.js');
  const queried = await Promise.all(source.generations.map((g) => queryRequisites(g.path, dir)));
  const closures = queried.filter((c): c is Set<string> => c !== undefined);
  if (closures.length !== queried.length) return undefined;
  const holders = new Map<string, number[]>();
  closures.forEach((closure) => {
    const index = tally.newGeneration();
    for (const storePath of closure) {
      const list = holders.get(storePath);
      if (list) list.push(index);
      else holders.set(storePath, [index]);
    }
  });
  const { walkTree } = await import('../generation/walk-tree.js');
  for (const [storePath, generations] of holders) tally.addShared((await walkTree(storePath)).entries, generations);
  return closures;
}

/**
 * Lists one source's generations and measures each: bytes, bytes unique to it, bytes shared with
 * the current one (regular files, once per inode), and for nix the store paths not in the current
 * closure. Generations are read one at a time; one that cannot be read carries `error`.
 */
export async function measureGenerations(path: string, options: MeasureOptions = {}): Promise<InstalledSource> {
  const source = await listGenerations(path, options);
  const tally = new DiskTally();
  const indices: Array<number | undefined> = [];
  let closures: Array<Set<string> | undefined> = [];
  const byStorePath = source.kind === 'nix-profile' ? await measureNixByStorePath(source, tally, options.storeDir) : undefined;
  if (byStorePath) {
    closures = byStorePath;
    source.generations.forEach((_g, i) => indices.push(i));
  } else {
    for (const generation of source.generations) {
      try {
        const loaded = await loadFiles(source.kind, generation.path, options.storeDir);
        indices.push(tally.add(loaded.files));
        closures.push(loaded.closure);
      } catch (error) {
        generation.error = describeError(error);
        indices.push(undefined);
        closures.push(undefined);
      }
    }
  }
  const currentAt = source.generations.findIndex((g) => g.current);
  const currentIndex = currentAt < 0 ? undefined : indices[currentAt];
  const usage = tally.result(currentIndex);
  const currentClosure = currentAt < 0 ? undefined : closures[currentAt];
  source.generations.forEach((generation: InstalledGeneration, i) => {
    const index = indices[i];
    const bytes = index === undefined ? undefined : usage.perGeneration[index];
    if (bytes) Object.assign(generation, bytes);
    const closure = closures[i];
    if (closure) {
      generation.storePaths = closure.size;
      if (currentClosure) generation.storePathsNotInCurrent = [...closure].filter((p) => !currentClosure.has(p)).length;
    }
  });
  if (currentIndex !== undefined) source.reclaimableBytes = usage.reclaimableBytes;
  return source;
}
