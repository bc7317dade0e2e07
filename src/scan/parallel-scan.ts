import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { claimPids } from './pid-chunks.js';
import { ProcReader } from './proc-reader.js';
import { scanHeldFiles, scanPids, type ScanOptions, type ScanPart } from './scan-processes.js';
import type { ScanResult } from './types.js';

/** Below this many PIDs a second thread costs more to start than it saves. */
export const PARALLEL_MIN_PIDS = 400;

export interface ParallelScanOptions extends ScanOptions {
  /** Scan with a second thread: 'auto' (default) when there are enough PIDs and the worker is built. */
  parallel?: boolean | 'auto';
}

const WORKER = new URL('./scan-worker.js', import.meta.url);

/**
 * scanHeldFiles on two threads: both take chunks of PIDs from a shared counter, so the split
 * balances itself while the worker is still starting. Same result as the single-threaded scan.
 */
export async function scanHeldFilesParallel(options: ParallelScanOptions = {}): Promise<ScanResult> {
  const procRoot = options.procRoot ?? '/proc';
  const reader = new ProcReader(procRoot);
  const pids = options.pids ?? reader.listPids();
  const wanted = options.parallel ?? 'auto';
  const workerBuilt = WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
  if (wanted === false || !workerBuilt || (wanted === 'auto' && pids.length < PARALLEL_MIN_PIDS)) {
    return scanHeldFiles({ ...options, pids });
  }
  // The single-threaded scan of no PIDs gives `self` the same way the full scan would.
  const { self } = scanHeldFiles({ ...options, pids: [] });
  const counter = new SharedArrayBuffer(4);
  const skipPid = options.includeSelf ? -1 : self.pid;
  const worker = new Worker(WORKER, { workerData: { procRoot, pids, counter, skipPid } });
  const theirs = new Promise<ScanPart>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`scan worker exited with code ${code}`)));
  });
  const mine = scanPids(reader, claimPids(pids, new Int32Array(counter)), skipPid);
  const other = await theirs;
  await worker.terminate();
  const processes = [...mine.processes, ...other.processes].sort((a, b) => a.pid - b.pid);
  return {
    processes,
    unreadable: [...mine.unreadable, ...other.unreadable].sort((a, b) => a.pid - b.pid),
    vanished: mine.vanished + other.vanished,
    self,
  };
}
