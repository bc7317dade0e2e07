import type { ChangeSet } from './generation/types.js';
import { findStaleScripts } from './interp/find-stale-scripts.js';
import { withScriptFiles } from './interp/merge-stale.js';
import type { InterpLimits } from './interp/types.js';
import { createStaleFileMatcher, toStaleProcess } from './match/match-stale.js';
import type { StaleProcess } from './match/types.js';
import { gatherDiskFacts } from './scan/disk-facts.js';
import { ProcReader } from './scan/proc-reader.js';
import { scanHeldFilesParallel } from './scan/parallel-scan.js';
import { completeImage } from './scan/scan-processes.js';
import type { ScanResult } from './scan/types.js';

export interface DetectOptions {
  /** What the switch changed; without it only deleted and replaced files are found. */
  changeSet?: ChangeSet | undefined;
  procRoot?: string;
  pids?: number[];
  scratchDirs?: readonly string[];
  /** Scan on two threads: 'auto' (default) when there are enough processes. */
  parallel?: boolean | 'auto';
  /** Interpreted programs: files examined per process, time budget, start-time tolerance. */
  interp?: Partial<InterpLimits>;
}

export interface Detection {
  /** The scan; only stale processes carry uid and cgroup (scanProcesses fills every field). */
  scan: ScanResult;
  stale: StaleProcess[];
  durationMs: number;
}

/** Scan every process and match it against the ChangeSet and the disk: the detection core. */
export async function detectStale(options: DetectOptions = {}): Promise<Detection> {
  const started = performance.now();
  const procRoot = options.procRoot ?? '/proc';
  const scan = await scanHeldFilesParallel({
    procRoot,
    ...(options.pids === undefined ? {} : { pids: options.pids }),
    ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
  });
  const shared = {
    changeSet: options.changeSet,
    ...(options.scratchDirs === undefined ? {} : { scratchDirs: options.scratchDirs }),
  };
  const disk = gatherDiskFacts(scan, { ...shared, procRoot });
  const staleFiles = createStaleFileMatcher({ ...shared, disk });
  const scripts = findStaleScripts(scan, { ...shared, procRoot, ...(options.interp === undefined ? {} : { limits: options.interp }) });
  const reader = new ProcReader(procRoot);
  const stale: StaleProcess[] = [];
  for (const image of scan.processes) {
    const files = withScriptFiles(staleFiles(image), scripts.byPid.get(image.pid));
    // Owner, uid and the rest are read only for the processes that need reporting.
    if (files.length > 0 && completeImage(reader, image, scan.unreadable, 'owner')) stale.push(toStaleProcess(image, files));
  }
  return { scan: { ...scan, interp: scripts.summary }, stale, durationMs: performance.now() - started };
}
