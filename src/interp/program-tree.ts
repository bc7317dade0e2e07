import type { InterpreterFamily } from '../types/interp.js';

/** File name endings of source an interpreter loads. The program file itself counts whatever its name. */
const SOURCE_ENDINGS: Record<InterpreterFamily, readonly string[]> = {
  python: ['.py'],
  perl: ['.pm', '.pl', '.pmc', '.ph'],
  ruby: ['.rb'],
  node: ['.js', '.mjs', '.cjs', '.node'],
  shell: ['.sh', '.bash', '.zsh', '.ksh', '.subr'],
};

/**
 * Data an interpreter loads like source (node's require('./x.json')). Counted only when a ChangeSet
 * names it: without one, a JSON file an app rewrites in its own tree at run time is not a switch.
 */
const LOADED_DATA_ENDINGS: Partial<Record<InterpreterFamily, readonly string[]>> = { node: ['.json'] };

/** Whether a file in a program's tree is source its interpreter loads (`withData`: also loaded data files). */
export function isSourceFile(family: InterpreterFamily, name: string, withData = false): boolean {
  if (SOURCE_ENDINGS[family].some((ending) => name.endsWith(ending))) return true;
  return withData && (LOADED_DATA_ENDINGS[family] ?? []).some((ending) => name.endsWith(ending));
}

/** Directories inside a program tree that hold no loaded source: VCS and tool state, bytecode caches. */
export function isSkippedDir(name: string): boolean {
  return name.startsWith('.') || name === '__pycache__';
}

/** Directories never walked while looking for changed sources: they hold many programs, not one. */
const SHARED_SUBDIRS_OF = /^\/(?:usr|usr\/local|home|var|etc|run|tmp|nix|gnu|snap)\/[^/]+$/;
const SHARED_NAMES = /\/(?:site-packages|dist-packages|node_modules|lib\/python[\d.]*|lib\/ruby(?:\/[^/]+)?|perl5?(?:\/[\d.]+)?)$/;

/** "/", top-level dirs, /usr/bin, /home/alice, site-packages…: directories shared by many programs. */
export function isSharedDir(dir: string): boolean {
  const depth = dir.split('/').filter(Boolean).length;
  return depth < 2 || SHARED_SUBDIRS_OF.test(dir) || SHARED_NAMES.test(dir);
}

export function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

const BIN_DIR = /\/s?bin$/;
const PACKAGE_ROOT_LEVELS = 8;

/**
 * The program's own tree: the directory whose sources the program loads without naming them on
 * the command line. For python, perl, ruby and shell the script's directory (python puts it first
 * on sys.path), or its parent when the script sits in an app's bin/; for node the package root
 * (nearest package.json). Undefined when that directory is shared (/usr/bin, a home dir): then
 * only the program file itself counts. `isFile` answers from the disk, through the process's root.
 */
export function programTreeOf(family: InterpreterFamily, realScript: string, isFile: (path: string) => boolean): string | undefined {
  let dir = dirname(realScript);
  if (family === 'node') {
    for (let up = 0, d = dir; up < PACKAGE_ROOT_LEVELS && !isSharedDir(d); up++, d = dirname(d)) {
      if (isFile(`${d}/package.json`)) return d;
    }
  } else if (BIN_DIR.test(dir)) {
    dir = dirname(dir);
  }
  return isSharedDir(dir) ? undefined : dir;
}

/** Drops trees inside another tree of the list (and shared dirs), keeping the first-listed order. */
export function distinctTrees(trees: ReadonlyArray<string | undefined>): string[] {
  const kept: string[] = [];
  for (const tree of trees) {
    if (tree === undefined || isSharedDir(tree)) continue;
    if (kept.some((k) => isWithin(tree, k))) continue;
    for (let i = kept.length - 1; i >= 0; i--) if (isWithin(kept[i] as string, tree)) kept.splice(i, 1);
    kept.push(tree);
  }
  return kept;
}

/** `path` is `dir` or below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47) || dir === '/';
}
