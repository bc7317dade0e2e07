import { posix } from 'node:path';
import { isNeverSoftware } from '../match/filters.js';
import { perlLibDirs } from './perl-lib-dirs.js';
import { distinctTrees, dirname, programTreeOf } from './program-tree.js';
import { pythonSearchDirs, resolvePythonModule } from './python-module.js';
import type { RootView } from './root-view.js';
import type { Reader } from '../safe-fs/read-regular.js';
import type { InterpreterFamily, Program } from '../types/interp.js';

/** An interpreted program found on disk: its file, and where else its sources are. */
export interface LocatedProgram {
  /** The program file as named (made absolute), and with symlinks resolved. */
  file: string;
  realFile: string;
  /** The program file is gone (only said for a file named by absolute path). */
  missing: boolean;
  /** Files named on the command line besides the program (node -r ./x.js). */
  extras: string[];
  /** Directory trees whose sources the program loads: its own tree, load-path dirs. */
  trees: string[];
}

/** What locating a program needs of its process: all as the process sees it. */
export interface InterpreterProcess {
  exe: string;
  argv: readonly string[];
  cwd: string | null;
  /** The process's filesystem uid and groups: its sources are read only when it could read them. */
  reader?: Reader | undefined;
  /**
   * The program's first PERL_HEAD_BYTES, already read with the process's own credentials (null: it
   * could not read them). Without it, the head is read here, where `reader`'s mode bits allow.
   */
  head?: string | null;
}

/** Bytes of a perl program read to find its `use lib` lines. */
export const PERL_HEAD_BYTES = 64 * 1024;
const NODE_SUFFIXES = ['', '.js', '.cjs', '.mjs', '/index.js'];

/**
 * Finds an interpreter process's program through its root, by stat, readdir and bounded reads
 * only: argv paths resolve against the process's cwd (as the process sees it), python modules
 * against the file-derived search path. Undefined when the program can't be found — a relative
 * path after the process changed directory, or an argv the process rewrote.
 */
export function locateProgram(process: InterpreterProcess, family: InterpreterFamily, program: Program, view: RootView): LocatedProgram | undefined {
  if (program.kind === 'none') return undefined;
  const isFile = (path: string): boolean => view.kind(path) === 'file';
  if (program.kind === 'module') {
    const dirs = pythonSearchDirs({ exe: process.exe, argv0: process.argv[0], cwd: process.cwd }, view);
    const found = resolvePythonModule(program.name, dirs, view);
    if (!found) return undefined;
    const realFile = view.realpath(found.file);
    if (realFile === undefined || isNeverSoftware(realFile)) return undefined;
    return { file: found.file, realFile, missing: false, extras: [], trees: distinctTrees([found.packageDir]) };
  }
  const at = scriptFileOf(process, program, view);
  if (at === undefined) return undefined;
  const { file, absolute } = at;
  if (!isFile(file)) return absolute ? { file, realFile: file, missing: true, extras: [], trees: [] } : undefined;
  const realFile = at.resolved ?? file;
  const libDirs = [...program.libDirs];
  if (family === 'perl') {
    const head = process.head !== undefined ? process.head : view.readHead(realFile, PERL_HEAD_BYTES, process.reader);
    libDirs.push(...perlLibDirs(head ?? '', dirname(realFile)));
  }
  const trees = distinctTrees([
    programTreeOf(family, realFile, isFile),
    ...libDirs.map((dir) => relativeTo(process.cwd, dir)).filter((dir) => dir !== undefined && view.kind(dir) === 'dir'),
  ]);
  const extras = program.preloads
    .map((preload) => relativeTo(process.cwd, preload))
    .map((path) => (path === undefined ? undefined : NODE_SUFFIXES.map((suffix) => path + suffix).find(isFile)))
    .filter((path): path is string => path !== undefined);
  return { file, realFile, missing: false, extras, trees };
}

/**
 * The file a script program names, made absolute against the process's cwd (`file`) and with its
 * links resolved inside the process's root (`resolved`); undefined when it is nothing to locate: no
 * cwd for a relative path, or a never-software place (/proc, /dev, ...) as named or where links lead.
 */
function scriptFileOf(process: InterpreterProcess, program: Extract<Program, { kind: 'script' }>, view: RootView): { file: string; resolved: string | undefined; absolute: boolean } | undefined {
  const absolute = program.path.startsWith('/');
  const file = absolute ? posix.normalize(program.path) : relativeTo(process.cwd, program.path);
  // A relative path can still lead into /proc or /dev, where "the file" would be ours, not the target's.
  if (file === undefined || isNeverSoftware(file)) return undefined;
  // Judged again where the links lead (inside the process's root): a program linked to /proc/kmsg
  // or /proc/self/environ is nothing to read.
  const resolved = view.realpath(file);
  if (resolved !== undefined && isNeverSoftware(resolved)) return undefined;
  return { file, resolved, absolute };
}

/** The file whose head locateProgram reads for a perl program (as the process names it, links resolved), if any. */
export function perlHeadFile(process: InterpreterProcess, program: Program, view: RootView): string | undefined {
  if (program.kind !== 'script') return undefined;
  const at = scriptFileOf(process, program, view);
  if (at === undefined || view.kind(at.file) !== 'file') return undefined;
  return at.resolved ?? at.file;
}

/** `path` made absolute against the process's cwd; undefined without a cwd. */
function relativeTo(cwd: string | null, path: string): string | undefined {
  if (path.startsWith('/')) return posix.normalize(path);
  if (cwd === null || !cwd.startsWith('/')) return undefined;
  return posix.resolve(cwd, path);
}
