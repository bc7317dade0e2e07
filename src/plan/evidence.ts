import type { StaleFile, StaleProcess } from '../types/stale.js';

// The most telling evidence first: the executable, program source, mapped libraries, open files.
const VIA_ORDER: Readonly<Record<string, number>> = { exe: 0, script: 1, map: 2, fd: 3, cwd: 4 };
const rank = (file: StaleFile): number => VIA_ORDER[file.via] ?? 9;

/**
 * What makes a group of processes stale, in a few words: the most telling held file (an executable
 * before program source before a mapped library before an open file, then by path) and how many more there are.
 * "holds deleted /usr/lib/libssl.so.3 (+2 more files)".
 */
export function summarizeEvidence(processes: readonly StaleProcess[]): string {
  const byPath = new Map<string, StaleFile>();
  for (const process of processes) {
    for (const file of process.files) {
      const seen = byPath.get(file.path);
      if (!seen || rank(file) < rank(seen)) byPath.set(file.path, file);
    }
  }
  const files = [...byPath.values()].sort((a, b) => rank(a) - rank(b) || compare(a.path, b.path));
  const first = files[0];
  if (!first) return 'no stale files recorded';
  const more = files.length - 1;
  return `${describeFile(first)}${more > 0 ? ` (+${more} more file${more === 1 ? '' : 's'})` : ''}`;
}

function describeFile(file: StaleFile): string {
  const verb = file.via === 'exe' ? 'runs' : 'holds';
  switch (file.kind) {
    case 'left-generation':
      return `${verb} ${file.path} (left the generation)`;
    case 'modified-after-start':
      return `${verb} ${file.path} (modified after it started)`;
    default:
      return `${verb} ${file.kind} ${file.path}`;
  }
}

/** Locale-independent string order, so plans sort the same everywhere. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
