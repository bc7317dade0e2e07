import { basename, dirname } from 'node:path';
import { watch } from 'chokidar';

/** A running watch; `close` stops it. */
export interface PathWatch {
  close(): Promise<void>;
}

/**
 * Calls `onEvent` whenever the entry at `path` (a symlink, not what it points to) is created,
 * replaced, changed or removed. Watches the parent directory, so a link renamed over atomically, or
 * deleted and recreated, is seen the same way. The only file that imports chokidar.
 */
export function watchEntry(path: string, onEvent: () => void, onError: (error: unknown) => void): Promise<PathWatch> {
  const name = basename(path);
  const watcher = watch(dirname(path), {
    depth: 0,
    followSymlinks: false,
    ignoreInitial: true,
    // Every rename counts: the debounce above us merges them, not chokidar's atomic-write guessing.
    atomic: false,
    ignored: (entry: string) => entry !== dirname(path) && basename(entry) !== name,
  });
  watcher.on('all', (_event, entry) => {
    if (basename(entry) === name) onEvent();
  });
  watcher.on('error', onError);
  return new Promise((resolve) => {
    watcher.once('ready', () => resolve({ close: () => watcher.close() }));
  });
}
