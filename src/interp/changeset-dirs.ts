import type { ChangeSet } from '../types/generation.js';

/** The old paths a ChangeSet names as changed or removed, queried by directory. */
export interface ChangesByDir {
  /** Changed or removed old paths at any depth below `dir`, in path order. */
  under(dir: string): string[];
}

/** Sorts the ChangeSet's changed and removed old paths once, so each directory query is a binary search. */
export function indexChangesByDir(changeSet: ChangeSet | undefined): ChangesByDir {
  if (!changeSet) return { under: () => [] };
  const paths = [...changeSet.changed.map((c) => c.oldPath), ...changeSet.removed.map((r) => r.path)].sort();
  return {
    under(dir) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      let lo = 0;
      let hi = paths.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((paths[mid] as string) < prefix) lo = mid + 1;
        else hi = mid;
      }
      const found: string[] = [];
      for (let i = lo; i < paths.length && (paths[i] as string).startsWith(prefix); i++) found.push(paths[i] as string);
      return found;
    },
  };
}
