// Types of testkit/workload.mjs (hand-written; the testkit is plain JavaScript so that
// `node bench/run.mjs` can use it without a TypeScript loader).

/** How generation 2 arrives. */
export type WorkloadMode = 'inplace' | 'nix' | 'dir';
/** tree: one supervisor is the parent of every daemon; flat: daemons are double-forked (parent PID 1). */
export type Topology = 'tree' | 'flat';
export type Role = 'lib' | 'exe' | 'fd' | 'plugin' | 'mmap' | 'clean' | 'supervisor';

export interface WorkloadOptions {
  /** Absolute scratch dir, e.g. /srv/restartd-test-<random>; absent or empty. Not under /tmp, /run, /var, /home, /dev. */
  root: string;
  /** Number of workload daemons (the supervisor comes on top). */
  procs: number;
  mode: WorkloadMode;
  /** Default 'tree'. */
  topology?: Topology;
  /** Fraction (0..1) of daemons with role 'clean' (they use only unchanged files); default 0. */
  cleanRatio?: number;
}

export interface WorkloadProcess {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot). */
  startTime: number;
  role: Role;
  /** Ground truth, filled in by switch(); false before. */
  stale: boolean;
  /** Absolute stale paths as /proc/PID/{maps,fd,exe} name them, without " (deleted)"; sorted. */
  reasons: string[];
}

export interface Generations {
  /**
   * dir:     ROOT/releases/v1, ROOT/releases/v2
   * nix:     ROOT/profiles/system-1-link, ROOT/profiles/system-2-link (store: ROOT/store)
   * inplace: ROOT/manifest-1.json, ROOT/manifest-2.json
   *          ({"version":1,"root":"ROOT/opt/app","files":[{"path","sha256","size"}]})
   */
  old: string;
  /** Exists only after switch(). */
  new: string;
  source: 'dir' | 'nix' | 'manifest';
  storeDir?: string;
}

export interface WorkloadTimings {
  /** Building generation 1 and the spawner. */
  buildMs?: number;
  /** Starting every daemon until all reported ready. */
  startMs?: number;
  /** Applying generation 2. */
  switchMs?: number;
  /** Checking the ground truth against /proc. */
  verifyMs?: number;
}

export interface Workload {
  readonly root: string;
  readonly mode: WorkloadMode;
  readonly topology: Topology;
  /** Supervisor first (tree topology; never stale), then the daemons in start order. */
  readonly processes: WorkloadProcess[];
  readonly generations: Generations;
  readonly switched: boolean;
  readonly timings: WorkloadTimings;
  /**
   * Apply generation 2, fill in stale/reasons, and verify them against /proc; rejects if
   * /proc disagrees (the processes keep running: call cleanup()).
   */
  switch(): Promise<void>;
  /**
   * Kill exactly the PIDs it started (only while pid + startTime still match), wait until
   * they are gone, then remove the root. Safe to call more than once.
   */
  cleanup(): Promise<void>;
}

/** Build generation 1 and start the processes; resolves once every one holds all its files. */
export function startWorkload(opts: WorkloadOptions): Promise<Workload>;

/** Re-open a workload started by another process (reads ROOT/ground-truth.json). */
export function attachWorkload(root: string): Promise<Workload>;

/** End the processes listed in ROOT/pids.tsv (pid + startTime must match) and remove ROOT. */
export function cleanupRoot(root: string): Promise<void>;
