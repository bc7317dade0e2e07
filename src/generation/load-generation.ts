import { lstat, stat } from 'node:fs/promises';
import { errnoCode } from '../errors.js';
import { loadDir } from './load-dir.js';
import { DEFAULT_STORE_DIR, loadNix } from './load-nix.js';
import { generationError, resolveGenerationPath } from './resolve-path.js';
import type { Generation, SourceKind } from '../types/generation.js';
import { STORE_LAYOUT } from './store-layout.js';

/** How to read a generation; everything is detected from the path when left out. */
export interface LoadOptions {
  source?: SourceKind;
  /** Nix store dir (default /nix/store). */
  storeDir?: string;
  /** Bounds on a manifest generation (the config's limits.manifestMaxBytes / manifestMaxEntries). */
  manifestLimits?: ManifestLimits;
}

/** How big a manifest may be, checked before it is read (bytes) and before it is validated (entries). */
export interface ManifestLimits {
  maxBytes?: number | undefined;
  maxEntries?: number | undefined;
}

/** What a path holds, as far as detection can tell. */
export interface DetectedSource {
  source: SourceKind;
  storeDir?: string;
}

// `<anything>/store/<32 hash chars>-<name>`: a store of its own (tests, chroots, remote roots).

/**
 * Detects a generation's source: a `.json` file is a manifest; a path resolving into the store dir
 * (or into a `…/store/<hash>-<name>` layout when no store dir is given) is nix; a directory is dir.
 */
export async function detectSource(path: string, storeDir?: string): Promise<DetectedSource> {
  try {
    await lstat(path);
  } catch (error) {
    throw generationError(path, errnoCode(error) === 'ENOENT' ? 'does not exist' : `cannot stat (${errnoCode(error) ?? String(error)})`, error);
  }
  const real = await resolveGenerationPath(path);
  const kind = await stat(real);
  if (kind.isFile() && path.endsWith('.json')) return { source: 'manifest' };
  const realStore = await resolveGenerationPath(storeDir ?? DEFAULT_STORE_DIR).catch(() => undefined);
  if (realStore !== undefined && real.startsWith(`${realStore}/`)) return { source: 'nix', storeDir: realStore };
  const layout = storeDir === undefined ? STORE_LAYOUT.exec(real) : null;
  if (layout?.[1]) return { source: 'nix', storeDir: layout[1] };
  if (kind.isDirectory()) return { source: 'dir' };
  throw generationError(path, 'not a directory, a manifest (.json) or a path into a nix store');
}

/**
 * Loads one generation: a directory tree, a nix profile link (its closure), or a manifest file.
 * Bad input raises RestartdError (BAD_GENERATION, BAD_MANIFEST, NIX_STORE) naming the path.
 */
export async function loadGeneration(path: string, options: LoadOptions = {}): Promise<Generation> {
  const source = options.source ?? (await detectSource(path, options.storeDir)).source;
  switch (source) {
    case 'manifest': {
      // Loaded on demand: the manifest's schema pulls in zod, which a dir or nix diff never needs.
      const { loadManifest } = await import('./load-manifest.js');
      return loadManifest(path, options.manifestLimits);
    }
    case 'nix':
      return loadNix(path, options.storeDir ?? (await detectStoreDir(path)));
    case 'dir':
      return loadDir(path);
  }
}

// The store dir a path resolves into: its `…/store` when it has that layout, else /nix/store.
async function detectStoreDir(path: string): Promise<string> {
  const detected = await detectSource(path).catch(() => undefined);
  return detected?.source === 'nix' && detected.storeDir !== undefined ? detected.storeDir : DEFAULT_STORE_DIR;
}
