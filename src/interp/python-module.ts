import { dirname } from './program-tree.js';

/** Read-only questions about paths, answered from the disk through the process's root. */
export interface PathView {
  /** What is at the path, following symlinks; undefined when nothing (or unreadable). */
  kind(path: string): 'file' | 'dir' | undefined;
  /** Names in a directory; empty when it can't be listed. */
  list(dir: string): string[];
}

const VERSIONED = /^python(\d+)\.(\d+)/;
const LIB_VERSION = /^python(\d+)\.(\d+)$/;

/** The python X.Y versions a prefix has a library dir for, newest first, or the one the exe names. */
function versionsOf(exe: string, prefix: string, view: PathView): Array<[string, string]> {
  const named = VERSIONED.exec(exe.slice(exe.lastIndexOf('/') + 1));
  if (named) return [[named[1] as string, named[2] as string]];
  return view
    .list(`${prefix}/lib`)
    .map((name) => LIB_VERSION.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m): [string, string] => [m[1] as string, m[2] as string])
    .sort((a, b) => Number(b[1]) - Number(a[1]));
}

/**
 * Where `python -m` looks, derived from files only: the cwd (sys.path[0] for -m), then for the
 * interpreter's prefix (the exe's, and a venv's found from argv[0] by its pyvenv.cfg) the standard
 * library, lib-dynload, and site-/dist-packages as CPython and Debian lay them out. PYTHONPATH and
 * .pth files are not followed: the first is the target's environment, the second can run code.
 */
export function pythonSearchDirs(input: { exe: string; argv0?: string | undefined; cwd: string | null }, view: PathView): string[] {
  const dirs: string[] = [];
  if (input.cwd !== null) dirs.push(input.cwd);
  const exes = [input.exe];
  const argv0 = input.argv0;
  if (argv0?.includes('/')) exes.unshift(argv0.startsWith('/') || input.cwd === null ? argv0 : `${input.cwd}/${argv0}`);
  for (const exe of exes) {
    const prefix = dirname(dirname(exe));
    const venv = view.kind(`${prefix}/pyvenv.cfg`) === 'file';
    for (const [major, minor] of versionsOf(exe, prefix, view)) {
      const v = `${major}.${minor}`;
      const candidates = venv
        ? [`${prefix}/lib/python${v}/site-packages`]
        : [
            `${prefix}/lib/python${v}`,
            `${prefix}/lib/python${v}/lib-dynload`,
            `${prefix}/local/lib/python${v}/dist-packages`,
            `${prefix}/lib/python${v}/site-packages`,
            `${prefix}/lib/python${v}/dist-packages`,
            `${prefix}/lib/python${major}/dist-packages`,
          ];
      for (const dir of candidates) if (!dirs.includes(dir) && view.kind(dir) === 'dir') dirs.push(dir);
    }
  }
  return dirs;
}

/** A python module resolved to files: the file `-m` runs, and the top-level package dir when it is a package. */
export interface ResolvedModule {
  file: string;
  packageDir?: string;
}

const IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/**
 * Resolves `python -m NAME` the way the import system would for plain source files, without
 * importing anything: a regular package (dir with __init__.py) or a module file wins in path
 * order; a namespace package (dir without __init__.py) only when nothing else is found. A
 * package runs its __main__.py.
 */
export function resolvePythonModule(name: string, searchDirs: readonly string[], view: PathView): ResolvedModule | undefined {
  const parts = name.split('.');
  if (!parts.every((p) => IDENTIFIER.test(p))) return undefined;
  const [top, ...rest] = parts as [string, ...string[]];
  let found: string | undefined;
  let namespace: string | undefined;
  for (const dir of searchDirs) {
    if (view.kind(`${dir}/${top}/__init__.py`) === 'file') found = `${dir}/${top}`;
    else if (view.kind(`${dir}/${top}.py`) === 'file') found = `${dir}/${top}.py`;
    else if (namespace === undefined && view.kind(`${dir}/${top}`) === 'dir') namespace = `${dir}/${top}`;
    if (found !== undefined) break;
  }
  found ??= namespace;
  if (found === undefined) return undefined;
  if (found.endsWith('.py')) return rest.length === 0 ? { file: found } : undefined;
  const packageDir = found;
  let current = found;
  for (const [i, part] of rest.entries()) {
    if (view.kind(`${current}/${part}`) === 'dir') current = `${current}/${part}`;
    else if (i === rest.length - 1 && view.kind(`${current}/${part}.py`) === 'file') return { file: `${current}/${part}.py`, packageDir };
    else return undefined;
  }
  const main = `${current}/__main__.py`;
  return view.kind(main) === 'file' ? { file: main, packageDir } : undefined;
}
