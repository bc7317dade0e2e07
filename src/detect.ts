import type { ChangeSet } from './types/generation.js';
import { findStaleScripts } from './interp/find-stale-scripts.js';
import { nowMs } from './now-ms.js';
import { withScriptFiles } from './interp/merge-stale.js';
import type { InterpLimits } from './types/interp.js';
import { toStaleProcess } from './match/match-stale.js';
import type { StaleProcess } from './types/stale.js';
import { ProcReader } from './scan/proc-reader.js';
import { scanStaleParallel } from './scan/parallel-scan.js';
import { completeImage } from './scan/scan-processes.js';
import type { ScanResult, UnreadableProcess } from './types/process.js';

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
  /** Replaced files above this many bytes are judged by identity alone (default 64 MiB). */
  compareMaxBytes?: number | undefined;
  /** Held files examined per process (default 20,000); the rest are counted in scanned.heldFilesNotExamined. */
  maxHeldFiles?: number | undefined;
  /** Read /proc with the native scan loop when it is built (default true); what is found is the same. */
  native?: boolean | undefined;
}

export interface Detection {
  /** The scan; only stale processes carry uid and cgroup (scanProcesses fills every field). */
  scan: ScanResult;
  stale: StaleProcess[];
  durationMs: number;
}

/** Scan every process and match it against the ChangeSet and the disk: the detection core. */
export async function detectStale(options: DetectOptions = {}): Promise<Detection> {
  const started = nowMs();
  const procRoot = options.procRoot ?? '/proc';
  const shared = {
    changeSet: options.changeSet,
    ...(options.scratchDirs === undefined ? {} : { scratchDirs: options.scratchDirs }),
  };
  // Only what matching reads goes to the scan worker (`added` can be most of a ChangeSet).
  const changes = options.changeSet;
  // Each scan thread matches the processes it reads (disk facts, held files, owners of the stale ones).
  const { scan, stale: held } = await scanStaleParallel(
    {
      procRoot,
      ...(options.pids === undefined ? {} : { pids: options.pids }),
      ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
      ...(options.maxHeldFiles === undefined ? {} : { maxHeldFiles: options.maxHeldFiles }),
      ...(options.native === undefined ? {} : { native: options.native }),
    },
    {
      changeSet: changes && {
        changed: changes.changed,
        removed: changes.removed,
        ...(changes.leftGeneration === undefined ? {} : { leftGeneration: changes.leftGeneration }),
        ...(changes.storeDir === undefined ? {} : { storeDir: changes.storeDir }),
      },
      scratchDirs: options.scratchDirs,
      compareMaxBytes: options.compareMaxBytes,
    },
  );
  // Interpreted programs need the whole scan (trees shared between processes): judged here.
  const scripts = findStaleScripts(scan, { ...shared, procRoot, ...(options.interp === undefined ? {} : { limits: options.interp }) });
  const heldFiles = new Map(held.staleFiles);
  const completed = new Set(held.completed);
  const gone = new Set(held.gone);
  const reader = new ProcReader(procRoot, undefined, options.native);
  const late: UnreadableProcess[] = [];
  const stale: StaleProcess[] = [];
  for (const image of scan.processes) {
    const files = withScriptFiles(heldFiles.get(image.pid) ?? [], scripts.byPid.get(image.pid));
    if (files.length === 0 || gone.has(image.pid)) continue;
    // Owner, uid and the rest are read only for the processes that need reporting.
    if (completed.has(image.pid) || completeImage(reader, image, late, 'owner')) stale.push(toStaleProcess(image, files));
  }
  const completionUnreadable = late.length === 0 ? held.completionUnreadable : [...held.completionUnreadable, ...late].sort((a, b) => a.pid - b.pid);
  return {
    scan: { ...scan, unreadable: [...scan.unreadable, ...completionUnreadable], interp: scripts.summary },
    stale,
    durationMs: nowMs() - started,
  };
}
