/** The interpreter families restartd knows how to read argv for. */
export type InterpreterFamily = 'python' | 'perl' | 'ruby' | 'node' | 'shell';

/**
 * What an interpreter process runs, read from its argv (never by asking the interpreter):
 * - script: a program file (relative paths are the process's, resolved against its cwd);
 * - module: python's `-m NAME`, resolved from files;
 * - none: code given inline (`-c`, `-e`), read from stdin, or an interactive session.
 */
export type Program =
  | {
      kind: 'script';
      path: string;
      /** Load-path directories named on the command line (perl/ruby `-I`). */
      libDirs: string[];
      /** Files loaded before the program (node `-r ./x.js`, `--import ./x.mjs`), when named by path. */
      preloads: string[];
    }
  | { kind: 'module'; name: string }
  | { kind: 'none'; reason: 'inline-code' | 'stdin' | 'interactive' | 'bad-args' };

/** What the interpreted-program step examined: reported with every scan, so a cut-short scan shows. */
export interface InterpSummary {
  /** Interpreter processes whose program was examined. */
  processes: number;
  /** Files whose change state was looked at, over all processes. */
  filesExamined: number;
  /** Processes whose per-process file cap was hit: their program tree was only partly examined. */
  capped: number[];
  /** The time budget ran out: the processes in `skipped` were not examined. */
  budgetExceeded: boolean;
  skipped: number[];
  /** Interpreter processes whose program could not be found (relative path after a chdir, rewritten argv, module not on the file-derived path). */
  unresolved: number[];
}

/** Limits of the interpreted-program step. */
export interface InterpLimits {
  /** Files examined per process before giving up on the rest of its tree (default 2000). */
  maxFilesPerProcess: number;
  /** Wall-clock budget for the whole step, in ms (default 2000). */
  budgetMs: number;
  /** A file changed within this many ms of the process start is not called modified-after-start (default 2000). */
  toleranceMs: number;
}

export const DEFAULT_INTERP_LIMITS: InterpLimits = { maxFilesPerProcess: 2000, budgetMs: 2000, toleranceMs: 2000 };
