import type { ChangesByDir } from './changeset-dirs.js';
import { isSkippedDir, isSourceFile } from './program-tree.js';
import type { RootView } from './root-view.js';
import type { InterpreterFamily } from '../types/interp.js';
import { nowMs } from '../now-ms.js';

/** Files of a program tree, and whether listing them was cut short. */
export interface TreeFiles {
  files: string[];
  /** Directories read plus files listed: the unit the per-process cap counts. */
  examined: number;
  capped: boolean;
  outOfTime: boolean;
}

export interface WalkLimits {
  maxExamined: number;
  /** nowMs() value after which the walk stops. */
  deadline: number;
}

const MAX_DEPTH = 16;
const CLOCK_EVERY = 64;

/**
 * Lists the source files below `root` breadth first, without following symlinks, skipping dot
 * dirs and __pycache__, and reading node_modules dirs last (a program's own files first).
 */
export function walkSources(view: RootView, root: string, family: InterpreterFamily, limits: WalkLimits): TreeFiles {
  const result: TreeFiles = { files: [], examined: 0, capped: false, outOfTime: false };
  const queue: Array<[string, number]> = [[root, 0]];
  const deferred: Array<[string, number]> = [];
  for (let head = 0; head < queue.length || deferred.length > 0; head++) {
    if (head === queue.length) queue.push(...deferred.splice(0));
    const [dir, depth] = queue[head] as [string, number];
    for (const entry of view.entries(dir)) {
      if (++result.examined > limits.maxExamined) {
        result.capped = true;
        return result;
      }
      if (result.examined % CLOCK_EVERY === 0 && nowMs() > limits.deadline) {
        result.outOfTime = true;
        return result;
      }
      const path = `${dir === '/' ? '' : dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (depth + 1 >= MAX_DEPTH || isSkippedDir(entry.name)) continue;
        (entry.name === 'node_modules' ? deferred : queue).push([path, depth + 1]);
      } else if (entry.isFile() && isSourceFile(family, entry.name)) {
        result.files.push(path);
      }
    }
  }
  return result;
}

/** The tree's files a ChangeSet names (changed or removed), filtered the way walkSources filters. */
export function changedSources(byDir: ChangesByDir, root: string, family: InterpreterFamily, maxExamined: number): TreeFiles {
  const result: TreeFiles = { files: [], examined: 0, capped: false, outOfTime: false };
  for (const path of byDir.under(root)) {
    const segments = path.slice(root.length + 1).split('/');
    const name = segments.pop() as string;
    if (segments.some(isSkippedDir) || !isSourceFile(family, name, true)) continue;
    if (++result.examined > maxExamined) {
      result.capped = true;
      break;
    }
    result.files.push(path);
  }
  return result;
}
