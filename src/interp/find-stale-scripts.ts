import type { ChangeSet } from '../types/generation.js';
import { indexChangeSet, type ChangeIndex } from '../match/changeset-index.js';
import { DEFAULT_SCRATCH_DIRS, isUnder } from '../match/filters.js';
import type { StaleFile } from '../types/stale.js';
import { splitDeleted } from '../scan/parse.js';
import { ProcReader } from '../scan/proc-reader.js';
import { viewOf } from '../scan/process-view.js';
import type { ProcessImage, ScanResult } from '../types/process.js';
import { indexChangesByDir, type ChangesByDir } from './changeset-dirs.js';
import { interpreterOf } from '../scan/interpreter.js';
import { judgeScriptFiles } from './judge-script.js';
import { locateProgram, PERL_HEAD_BYTES, perlHeadFile, type LocatedProgram } from './locate-program.js';
import { readHeadsAs, type HeadRequest } from './read-as-target.js';
import { readerOf } from './process-reader.js';
import { readProcessClock, type ProcessClock } from './process-clock.js';
import { programOf } from './program-of.js';
import { RootView } from './root-view.js';
import { DEFAULT_INTERP_LIMITS, type InterpLimits, type InterpreterFamily, type InterpSummary, type Program } from '../types/interp.js';
import { changedSources, walkSources, type TreeFiles } from './walk-sources.js';
import { nowMs } from '../now-ms.js';

export interface ScriptScanOptions {
  /** What the switch changed; without it, file times against process start times decide. */
  changeSet?: ChangeSet | undefined;
  procRoot?: string;
  /** Without a ChangeSet, programs under these dirs are not judged (default /tmp, /var, /run, /dev/shm). */
  scratchDirs?: readonly string[];
  limits?: Partial<InterpLimits>;
}

/** Stale files of interpreted programs, per pid, and what examining them cost. */
export interface ScriptFindings {
  byPid: Map<number, StaleFile[]>;
  summary: InterpSummary;
}

/**
 * Finds interpreter processes (python, perl, ruby, node, shells) whose program or the sources in
 * its tree changed: per the ChangeSet, or without one, after the process started.
 *
 * Nothing the target controls is run or loaded: its argv is parsed as data, its files are
 * stat()ed, listed, and (perl's `use lib` lines) read in bounded, non-blocking reads. The target's
 * environment is not read at all (PYTHONPATH, PERL5LIB, RUBYLIB, NODE_PATH are not followed):
 * it may carry secrets, and the program's own tree plus the interpreter's file-derived standard
 * paths are where switched software lives.
 */
export function findStaleScripts(scan: ScanResult, options: ScriptScanOptions = {}): ScriptFindings {
  const limits = { ...DEFAULT_INTERP_LIMITS, ...options.limits };
  const procRoot = options.procRoot ?? '/proc';
  const ctx: ScanContext = {
    limits,
    deadline: nowMs() + limits.budgetMs,
    reader: new ProcReader(procRoot),
    changes: options.changeSet ? indexChangeSet(options.changeSet) : undefined,
    byDir: indexChangesByDir(options.changeSet),
    roots: generationRoots(options.changeSet),
    views: new Map(),
    trees: new Map(),
  };
  const scratchDirs = options.scratchDirs ?? DEFAULT_SCRATCH_DIRS;
  const summary: InterpSummary = { processes: 0, filesExamined: 0, capped: [], budgetExceeded: false, skipped: [], unresolved: [] };
  const byPid = new Map<number, StaleFile[]>();
  let clock: ProcessClock | undefined | null = null;

  const candidates: Candidate[] = [];
  for (const image of scan.processes) {
    const family = image.argv && !image.kernelThread ? interpreterOf(image.exe, image.argv[0]) : undefined;
    if (family === undefined || !image.argv || image.exe === null) continue;
    const program = programOf(family, image.argv);
    if (program.kind !== 'none') candidates.push({ image, family, program, argv: image.argv, exe: image.exe });
  }
  // Only perl's program is read (its `use lib` lines), and only with its process's own credentials.
  const heads = perlHeads(ctx, candidates, scan.self);

  for (const { image, family, program, argv, exe } of candidates) {
    if (nowMs() > ctx.deadline) {
      summary.budgetExceeded = true;
      summary.skipped.push(image.pid);
      continue;
    }
    summary.processes++;
    const view = viewFor(ctx, viewOf(ctx.reader, image, scan.self).prefix);
    const cwd = image.cwd ?? cwdOf(ctx.reader, image.pid);
    const head = family === 'perl' ? (heads.get(image.pid) ?? null) : undefined;
    const found = locateProgram({ exe, argv, cwd, ...(head === undefined ? {} : { head }) }, family, program, view);
    if (!found) {
      summary.unresolved.push(image.pid);
      continue;
    }
    if (!ctx.changes && isUnder(found.realFile, scratchDirs)) continue;
    if (clock === null) clock = readProcessClock(procRoot);
    const startedAtMs = clock?.startedAtMs(image.startTime);
    const located = ctx.roots === undefined ? found : rebaseRepointed(found, ctx.roots, view, startedAtMs, limits.toleranceMs);

    const gathered = gatherPaths(ctx, view, located, family);
    summary.filesExamined += gathered.examined;
    summary.budgetExceeded ||= gathered.outOfTime;
    if (gathered.capped) summary.capped.push(image.pid);
    const stale = judgeScriptFiles({
      paths: gathered.files,
      changes: ctx.changes,
      startedAtMs,
      toleranceMs: limits.toleranceMs,
      changedAtOf: (path) => view.stat(path)?.ctimeMs ?? null,
      programIfAbsolute: located.missing ? located.file : undefined,
    });
    if (stale.length > 0) byPid.set(image.pid, stale);
  }
  return { byPid, summary };
}

/** An interpreter process with a program to look for. */
interface Candidate {
  image: ProcessImage;
  family: InterpreterFamily;
  program: Program;
  argv: string[];
  exe: string;
}

/**
 * The heads of the perl programs, read with each process's credentials (one child per user for the
 * whole scan, see readHeadsAs); unknown credentials read nothing.
 */
function perlHeads(ctx: ScanContext, candidates: readonly Candidate[], self: ScanResult['self']): Map<number, string | null> {
  const requests: HeadRequest[] = [];
  for (const { image, family, program, argv, exe } of candidates) {
    if (family !== 'perl' || nowMs() > ctx.deadline) continue;
    const view = viewFor(ctx, viewOf(ctx.reader, image, self).prefix);
    const cwd = image.cwd ?? cwdOf(ctx.reader, image.pid);
    const file = perlHeadFile({ exe, argv, cwd }, program, view);
    if (file !== undefined) requests.push({ pid: image.pid, path: view.prefix + file, reader: readerOf(ctx.reader, image.pid) });
  }
  return readHeadsAs(requests, PERL_HEAD_BYTES);
}

/** What one scan shares across processes: limits, the ChangeSet's indexes, and per-root caches. */
interface ScanContext {
  limits: InterpLimits;
  /** nowMs() value at which the budget runs out. */
  deadline: number;
  reader: ProcReader;
  changes: ChangeIndex | undefined;
  byDir: ChangesByDir;
  /** The switch's old and new generation dirs (symlinks resolved), when both are directories. */
  roots: { old: string; new: string } | undefined;
  views: Map<string, RootView>;
  trees: Map<string, TreeFiles>;
}

function generationRoots(changeSet: ChangeSet | undefined): { old: string; new: string } | undefined {
  if (changeSet === undefined) return undefined;
  const host = new RootView('');
  const [oldRoot, newRoot] = [host.realpath(changeSet.old.path), host.realpath(changeSet.new.path)];
  if (oldRoot === undefined || newRoot === undefined || oldRoot === newRoot) return undefined;
  if (host.kind(oldRoot) !== 'dir' || host.kind(newRoot) !== 'dir') return undefined;
  return { old: oldRoot, new: newRoot };
}

/**
 * A program named through a link (`/srv/app/current/app.py`) that was re-pointed after the process
 * started: the process runs what the link named then, not what it names now. When the link now
 * leads into the new generation, the program and its trees are judged at the same place in the old
 * one. The link's own ctime dates the switch (a link is replaced, not modified). Only for processes
 * that share our root (the generations are our paths).
 */
export function rebaseRepointed(
  located: LocatedProgram,
  roots: { old: string; new: string },
  view: RootView,
  startedAtMs: number | undefined,
  toleranceMs: number,
): LocatedProgram {
  if (view.prefix !== '' || startedAtMs === undefined || located.missing) return located;
  if (relativeUnder(located.realFile, roots.new) === undefined) return located;
  if (!repointedAfter(located.file, view, startedAtMs + toleranceMs)) return located;
  const toOld = (path: string): string => {
    const rel = relativeUnder(path, roots.new);
    return rel === undefined ? path : rel === '' ? roots.old : `${roots.old}/${rel}`;
  };
  return { ...located, realFile: toOld(located.realFile), trees: located.trees.map(toOld), extras: located.extras.map(toOld) };
}

/** `path` relative to `root` ("" for the root itself); undefined when not under it. */
function relativeUnder(path: string, root: string): string | undefined {
  if (path === root) return '';
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined;
}

/** Whether some directory link on the way to `path` was (re)created after `after` (ms since the epoch). */
function repointedAfter(path: string, view: RootView, after: number): boolean {
  let prefix = '';
  for (const part of path.split('/').slice(1, -1)) {
    prefix += `/${part}`;
    const st = view.lstat(prefix);
    if (st?.isSymbolicLink() && st.ctimeMs > after) return true;
  }
  return false;
}

function viewFor(ctx: ScanContext, prefix: string): RootView {
  let view = ctx.views.get(prefix);
  if (!view) ctx.views.set(prefix, (view = new RootView(prefix)));
  return view;
}

/** The program's files to judge: the program, what the command line named, and its trees' sources, up to the cap. */
function gatherPaths(ctx: ScanContext, view: RootView, located: LocatedProgram, family: InterpreterFamily): TreeFiles {
  // A ChangeSet may name the link or its target; a file time is the target's either way.
  const programFiles = ctx.changes || located.missing ? [located.file, located.realFile] : [located.realFile];
  const gathered: TreeFiles = { files: [...new Set(programFiles), ...located.extras], examined: 0, capped: false, outOfTime: false };
  gathered.examined = gathered.files.length;
  for (const tree of located.trees) {
    const budget = ctx.limits.maxFilesPerProcess - gathered.examined;
    if (budget <= 0) {
      gathered.capped = true;
      break;
    }
    const files = treeFiles(ctx, view, tree, family, budget);
    gathered.examined += files.examined;
    gathered.capped ||= files.capped;
    gathered.outOfTime ||= files.outOfTime;
    gathered.files.push(...files.files);
  }
  return gathered;
}

/** A tree's files, listed once per scan however many processes run from it (a cap hit is not cached). */
function treeFiles(ctx: ScanContext, view: RootView, tree: string, family: InterpreterFamily, maxExamined: number): TreeFiles {
  const key = `${view.prefix}\0${family}\0${tree}`;
  const known = ctx.trees.get(key);
  if (known && known.examined <= maxExamined) return known;
  const files = ctx.changes
    ? changedSources(ctx.byDir, tree, family, maxExamined)
    : walkSources(view, tree, family, { maxExamined, deadline: ctx.deadline });
  if (!files.capped && !files.outOfTime) ctx.trees.set(key, files);
  return files;
}

/** The hot scan leaves cwd out; interpreter processes need it for relative program paths. */
function cwdOf(reader: ProcReader, pid: number): string | null {
  const link = reader.tryLink(pid, 'cwd');
  return link === undefined ? null : splitDeleted(link).path;
}
