import type { ChangeSet } from '../types/generation.js';

export type PathChange = { kind: 'changed'; newPath: string } | { kind: 'removed' } | { kind: 'left-generation'; storePath: string };

/** Fast lookup of what a ChangeSet says about a held path. */
export interface ChangeIndex {
  lookup(path: string): PathChange | undefined;
}

const HASH_PART = /^[0-9a-z]{32}-[^/]+/;

/** What an index reads of a ChangeSet (a scan worker is handed only this). */
export type IndexedChanges = Pick<ChangeSet, 'changed' | 'removed' | 'leftGeneration' | 'storeDir'>;

export function indexChangeSet(changeSet: IndexedChanges | undefined): ChangeIndex {
  const byPath = new Map<string, PathChange>();
  if (!changeSet) return { lookup: () => undefined };
  for (const c of changeSet.changed) byPath.set(c.oldPath, { kind: 'changed', newPath: c.newPath });
  for (const r of changeSet.removed) byPath.set(r.path, { kind: 'removed' });
  const left = new Set(changeSet.leftGeneration ?? []);
  const storePrefix = changeSet.storeDir === undefined ? undefined : `${changeSet.storeDir.replace(/\/+$/, '')}/`;
  return {
    lookup(path) {
      if (storePrefix !== undefined && left.size > 0 && path.startsWith(storePrefix)) {
        const name = HASH_PART.exec(path.slice(storePrefix.length))?.[0];
        const storePath = name === undefined ? undefined : storePrefix + name;
        if (storePath !== undefined && left.has(storePath)) return { kind: 'left-generation', storePath };
      }
      return byPath.get(path);
    },
  };
}
