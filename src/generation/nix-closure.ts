import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';
import { storePathOf } from '../diff/store-names.js';
import { RestartdError } from '../errors.js';
import { forEachBounded } from './bounded.js';
import { nixDbOf } from './store-layout.js';
import { readStoreIndex, scanFileReferences, scanLinkReferences, type StoreIndex } from './store-references.js';
import { turnBudget } from './sync-reads.js';
import { walkTree, type TreeListing } from './walk-tree.js';

/** A closure and the files of each of its store paths. */
export interface ClosureListing {
  closure: Set<string>;
  trees: Map<string, TreeListing>;
}

const SYSTEM_STORE = '/nix/store';
const STORE_PATHS_IN_FLIGHT = 4;
const BYTES_PER_TURN = 16 * 1024 * 1024;
const FILE_COST = 16 * 1024;

async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * `nix-store -qR PATH`: the store paths of a closure from Nix's database, or undefined when nix-store
 * is missing, the store has no database (see nixDbOf), it fails, or it names a path that is not a
 * top-level store path of `storeDir` (the store scan or walk then decides).
 */
export async function queryRequisites(storePath: string, storeDir: string): Promise<Set<string> | undefined> {
  const nixStore = await findOnPath('nix-store');
  if (nixStore === undefined || !existsSync(nixDbOf(storeDir))) return undefined;
  try {
    const { stdout } = await promisify(execFile)(nixStore, ['-qR', storePath], { maxBuffer: 256 * 1024 * 1024 });
    const paths = stdout.split('\n').filter((line) => line !== '');
    return paths.length > 0 && paths.every((p) => storePathOf(p, storeDir) === p) ? new Set(paths) : undefined;
  } catch {
    return undefined;
  }
}

async function scanReferences(store: StoreIndex, tree: TreeListing): Promise<Set<string>> {
  const found = new Set<string>();
  const files: string[] = [];
  for (const entry of tree.entries) {
    if (entry.link !== undefined) scanLinkReferences(store, entry.path, entry.link, found);
    else files.push(entry.path);
  }
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const overBudget = turnBudget(BYTES_PER_TURN);
  for (const path of files) {
    if (overBudget((scanFileReferences(store, path, found, buffer) ?? 0) + FILE_COST)) await nextTurn();
  }
  return found;
}

/**
 * The closure of `storePath` and the files of every store path in it: from `nix-store -qR` for the
 * system store when nix-store is on PATH, otherwise the way Nix finds references, by scanning
 * every file and symlink for `<storeDir>/<hash>-…` (each store path scanned once).
 */
export async function readClosure(storePath: string, storeDir: string): Promise<ClosureListing> {
  const trees = new Map<string, TreeListing>();
  const queried = storeDir === SYSTEM_STORE ? await queryRequisites(storePath, storeDir) : undefined;
  if (queried) {
    await forEachBounded([...queried], STORE_PATHS_IN_FLIGHT, () => async (path) => {
      trees.set(path, await walkTree(path));
    });
    return { closure: queried, trees };
  }
  let store: StoreIndex;
  try {
    store = await readStoreIndex(storeDir);
  } catch (error) {
    throw new RestartdError('NIX_STORE', `store dir ${storeDir}: cannot list it`, { cause: error, subject: storeDir });
  }
  const closure = new Set([storePath]);
  // Breadth first: a frontier's store paths are walked concurrently; their references make the next.
  for (let frontier = [storePath]; frontier.length > 0; ) {
    const next: string[] = [];
    await forEachBounded(frontier, STORE_PATHS_IN_FLIGHT, () => async (path) => {
      const tree = await walkTree(path);
      trees.set(path, tree);
      for (const reference of await scanReferences(store, tree)) {
        if (closure.has(reference)) continue;
        closure.add(reference);
        next.push(reference);
      }
    });
    frontier = next;
  }
  return { closure, trees };
}
