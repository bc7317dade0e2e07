import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RestartdError } from '../errors.js';
import { claimPids } from './pid-chunks.js';
import { ProcReader } from './proc-reader.js';
import { scanHeldFiles, scanPids, type ScanOptions, type ScanPart } from './scan-processes.js';
import { scanStalePids, type StaleMatchInput, type StalePart } from './stale-part.js';
import type { ScanResult } from '../types/process.js';

/**
 * Below this many PIDs a second thread costs more than it saves: its start (isolate, module graph,
 * cold JIT) is ~200 ms of CPU and ~13 MB of RSS. Measured at N = 2000 (2 cores): one thread 385 ms
 * CPU and 75 MB, two threads 600 ms CPU and 88 MB, and the second core is rarely idle on a busy host.
 */
export const PARALLEL_MIN_PIDS = 4000;

export interface ParallelScanOptions extends ScanOptions {
  /** Scan with a second thread: 'auto' (default) when there are enough PIDs and the worker is built. */
  parallel?: boolean | 'auto';
}

const WORKER = new URL('./scan-worker.js', import.meta.url);

/** What a scan worker is given (see scan-worker.ts). */
export interface ScanWorkerData {
  procRoot: string;
  pids: number[];
  counter: SharedArrayBuffer;
  skipPid: number;
  /** Held files examined per process (the reader's cap). */
  maxHeldFiles: number;
  /** Read with the native scan loop when it is built (the reader's `native`). */
  native: boolean;
  /** Set: match each process too (scanStalePids); unset: scan only (scanPids). */
  match?: StaleMatchInput;
}

/**
 * scanHeldFiles on two threads: both take chunks of PIDs from a shared counter, so the split
 * balances itself while the worker is still starting. Same result as the single-threaded scan.
 */
export async function scanHeldFilesParallel(options: ParallelScanOptions = {}): Promise<ScanResult> {
  const setup = prepare(options);
  if (!setup.parallel) return scanHeldFiles({ ...options, pids: setup.pids });
  const [mine, other] = await bothThreads<ScanPart>(setup, undefined, (claimed) => scanPids(setup.reader, claimed, setup.skipPid));
  return { ...mergeParts(mine, other), self: setup.self };
}

/** The scan and the held-file matching of every process (scanStalePids), on two threads when it pays. */
export interface StaleScan {
  scan: ScanResult;
  stale: Omit<StalePart, keyof ScanPart>;
}

/**
 * Scans and matches (scanStalePids) every PID: on two threads, each process is matched by the
 * thread that read it, so disk facts and owners are read in parallel too. Same result on one thread.
 */
export async function scanStaleParallel(options: ParallelScanOptions, match: Omit<StaleMatchInput, 'selfRootId'>): Promise<StaleScan> {
  const setup = prepare(options);
  const input: StaleMatchInput = { ...match, selfRootId: setup.self.rootId };
  if (!setup.parallel) {
    const { processes, unreadable, vanished, ...stale } = scanStalePids(setup.reader, setup.pids, setup.skipPid, input);
    return { scan: { processes, unreadable, vanished, self: setup.self }, stale };
  }
  const [mine, other] = await bothThreads<StalePart>(setup, input, (claimed) => scanStalePids(setup.reader, claimed, setup.skipPid, input));
  return {
    scan: { ...mergeParts(mine, other), self: setup.self },
    stale: {
      staleFiles: [...mine.staleFiles, ...other.staleFiles],
      completed: [...mine.completed, ...other.completed],
      gone: [...mine.gone, ...other.gone],
      completionUnreadable: [...mine.completionUnreadable, ...other.completionUnreadable].sort((a, b) => a.pid - b.pid),
    },
  };
}

interface Setup {
  procRoot: string;
  reader: ProcReader;
  pids: number[];
  self: ScanResult['self'];
  skipPid: number;
  parallel: boolean;
}

function prepare(options: ParallelScanOptions): Setup {
  const procRoot = options.procRoot ?? '/proc';
  const reader = new ProcReader(procRoot, options.maxHeldFiles, options.native);
  const pids = options.pids ?? reader.listPids();
  const wanted = options.parallel ?? 'auto';
  const workerBuilt = WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
  const parallel = wanted !== false && workerBuilt && !(wanted === 'auto' && pids.length < PARALLEL_MIN_PIDS);
  // The single-threaded scan of no PIDs gives `self` the same way the full scan would.
  const { self } = scanHeldFiles({ ...options, pids: [] });
  return { procRoot, reader, pids, self, skipPid: options.includeSelf ? -1 : self.pid, parallel };
}

/** Runs `mine` on this thread and the same work in a scan worker, over PIDs claimed from one counter. */
async function bothThreads<Part>(setup: Setup, match: StaleMatchInput | undefined, mine: (claimed: Iterable<number>) => Part): Promise<[Part, Part]> {
  const counter = new SharedArrayBuffer(4);
  const workerData: ScanWorkerData = { procRoot: setup.procRoot, pids: setup.pids, counter, skipPid: setup.skipPid, maxHeldFiles: setup.reader.maxHeldFiles, native: setup.reader.native, ...(match ? { match } : {}) };
  // Loaded only for a two-thread scan: most scans never start a worker.
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const worker = new Worker(WORKER, { workerData });
  const theirs = new Promise<Part>((resolve, reject) => {
    worker.once('message', resolve);
    // A thrown error crosses the thread as a plain Error: name it as the scan's failure.
    worker.once('error', (error) => reject(new RestartdError('SCAN_FAILED', `scan worker failed: ${error.message}`, { cause: error })));
    worker.once('exit', (code) => reject(new RestartdError('SCAN_FAILED', `scan worker exited with code ${code} before it answered`)));
  });
  // Settled before this thread's share can throw, so a failing worker never goes unhandled.
  theirs.catch(() => undefined);
  try {
    const part = mine(claimPids(setup.pids, new Int32Array(counter)));
    return [part, await theirs];
  } finally {
    await worker.terminate();
  }
}

function mergeParts(mine: ScanPart, other: ScanPart): ScanPart {
  return {
    processes: [...mine.processes, ...other.processes].sort((a, b) => a.pid - b.pid),
    unreadable: [...mine.unreadable, ...other.unreadable].sort((a, b) => a.pid - b.pid),
    vanished: mine.vanished + other.vanished,
  };
}
