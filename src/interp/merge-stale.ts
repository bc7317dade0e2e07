import type { StaleFile } from '../types/stale.js';

/**
 * A process's stale files with its interpreted-program evidence added: only files not listed yet
 * (a bash script held open on fd 255 is already there as an fd). Pure.
 */
export function withScriptFiles(held: StaleFile[], scripts: readonly StaleFile[] | undefined): StaleFile[] {
  if (!scripts || scripts.length === 0) return held;
  const paths = new Set(held.map((f) => f.path));
  return [...held, ...scripts.filter((f) => !paths.has(f.path))];
}
