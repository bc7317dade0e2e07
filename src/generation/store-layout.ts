import { dirname, join } from 'node:path';

/** A path inside a Nix-style store: `STORE/<32-char hash>-name[/...]`; group 1 is the store dir. */
export const STORE_LAYOUT = /^(.*\/store)\/[0-9a-z]{32}-[^/]+(?:\/|$)/;

/** The store dir `path` lies in (`/nix/store` for `/nix/store/<hash>-x/bin/y`), or undefined. */
export function storeDirOfPath(path: string): string | undefined {
  return STORE_LAYOUT.exec(path)?.[1];
}

/**
 * Where Nix keeps the database of a store dir (`/nix/store` → `/nix/var/nix/db`). Without one there is
 * nothing to ask, and nix-store, run as root, would create a store and a database on the machine.
 */
export function nixDbOf(storeDir: string): string {
  return join(dirname(storeDir), 'var', 'nix', 'db');
}
