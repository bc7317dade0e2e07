import { realpath } from 'node:fs/promises';
import { storeKeys, storePathOf } from '../diff/store-names.js';
import { RestartdError, errnoCode } from '../errors.js';
import { resolveGenerationPath } from './resolve-path.js';
import { readClosure, type ClosureListing } from './nix-closure.js';
import type { Generation, GenerationFile } from '../types/generation.js';

/** The default Nix store dir. */
export const DEFAULT_STORE_DIR = '/nix/store';

function nixError(path: string, detail: string, cause?: unknown): RestartdError {
  return new RestartdError('NIX_STORE', `nix generation ${path}: ${detail}`, { subject: path, cause });
}

/**
 * A nix generation: the closure of the store path a profile link (`…/profiles/system-42-link`)
 * resolves to. Files are keyed `<name without hash>/<path inside the store path>`.
 */
export async function loadNix(path: string, storeDir: string = DEFAULT_STORE_DIR): Promise<Generation> {
  let realStore: string;
  try {
    realStore = await realpath(storeDir);
  } catch (error) {
    throw nixError(path, `store dir ${storeDir} cannot be resolved (${errnoCode(error) ?? String(error)})`, error);
  }
  const real = await resolveGenerationPath(path);
  const top = storePathOf(real, realStore);
  if (top === undefined) throw nixError(path, `resolves to ${real}, which is not a store path in ${storeDir}`);

  let listing: ClosureListing;
  try {
    listing = await readClosure(top, realStore);
  } catch (error) {
    if (error instanceof RestartdError) throw error;
    throw nixError(path, `cannot read the closure of ${top} (${errnoCode(error) ?? String(error)})`, error);
  }
  const files = new Map<string, GenerationFile>();
  const unreadable: string[] = [];
  for (const [storePath, key] of storeKeys(listing.closure)) {
    const tree = listing.trees.get(storePath);
    if (!tree) continue;
    for (const file of tree.entries) {
      // The listing is ours alone: re-key its entries in place (`bin/app` → `app-1.0/bin/app`).
      file.rel = file.rel === '' ? key : `${key}/${file.rel}`;
      files.set(file.rel, file);
    }
    unreadable.push(...tree.unreadable);
  }
  const generation: Generation = { source: 'nix', path, files, closure: listing.closure, storeDir: realStore };
  if (unreadable.length > 0) generation.unreadable = unreadable.sort();
  return generation;
}
