import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Where Nix keeps the database of a store dir (`/nix/store` → `/nix/var/nix/db`). Without one there is
 * nothing to ask, and nix-store, run as root, would create a store and a database on the machine.
 */
export function nixDbOf(storeDir: string): string {
  return join(dirname(storeDir), 'var', 'nix', 'db');
}

/** nix-store on PATH, or undefined. */
export async function findNixStore(): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'nix-store');
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
 * `nix-store -qR PATH`: the store paths of a generation's closure, without walking them; undefined
 * when nix-store fails or names a path that is not a top-level store path of `storeDir`.
 */
export async function queryClosure(nixStore: string, path: string, storeDir: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await promisify(execFile)(nixStore, ['-qR', path], { maxBuffer: 256 * 1024 * 1024 });
    const paths = stdout.split('\n').filter((line) => line !== '');
    const prefix = `${storeDir}/`;
    return paths.length > 0 && paths.every((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) ? paths : undefined;
  } catch {
    return undefined;
  }
}
