import type { ChangeSet } from './generation/types.js';
import { matchStale } from './match/match-stale.js';
import type { StaleProcess } from './match/types.js';
import { gatherDiskFacts } from './scan/disk-facts.js';
import { scanProcesses } from './scan/scan-processes.js';
import type { ScanResult } from './scan/types.js';

export interface DetectOptions {
  /** What the switch changed; without it only deleted and replaced files are found. */
  changeSet?: ChangeSet | undefined;
  procRoot?: string;
  pids?: number[];
  scratchDirs?: readonly string[];
}

export interface Detection {
  scan: ScanResult;
  stale: StaleProcess[];
  durationMs: number;
}

/** Scan every process and match it against the ChangeSet and the disk: the detection core. */
export async function detectStale(options: DetectOptions = {}): Promise<Detection> {
  const started = performance.now();
  const scan = await scanProcesses({
    ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }),
    ...(options.pids === undefined ? {} : { pids: options.pids }),
  });
  const shared = {
    changeSet: options.changeSet,
    ...(options.scratchDirs === undefined ? {} : { scratchDirs: options.scratchDirs }),
  };
  const disk = gatherDiskFacts(scan, { ...shared, ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }) });
  const stale = matchStale(scan.processes, { ...shared, disk });
  return { scan, stale, durationMs: performance.now() - started };
}
