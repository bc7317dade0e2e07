import type { IndexedChanges } from '../match/changeset-index.js';
import { createStaleFileMatcher } from '../match/match-stale.js';
import type { DiskFacts } from '../match/disk-fact.js';
import type { StaleFile } from '../types/stale.js';
import { DiskFactGatherer } from './disk-facts.js';
import type { ProcReader } from './proc-reader.js';
import { completeImage, scanPids, type ScanPart } from './scan-processes.js';
import type { ProcessImage, UnreadableProcess } from '../types/process.js';

/** What the matcher needs besides the images; small enough to hand to a scan worker. */
export interface StaleMatchInput {
  /** Only what matching reads of the ChangeSet (not `added`). */
  changeSet?: IndexedChanges | undefined;
  scratchDirs?: readonly string[] | undefined;
  /** Replaced files above this many bytes are judged by identity alone. */
  compareMaxBytes?: number | undefined;
  /** The scanner's root identity (ScanResult.self.rootId). */
  selfRootId: string | undefined;
}

/**
 * A batch of PIDs scanned and matched: every image (as scanPids gives them), the stale files per
 * PID (held files only; interpreted programs are judged after the whole scan), and for those the
 * owner read at once (uid, cgroup): `completed` PIDs have it, `gone` ones exited before it.
 */
export interface StalePart extends ScanPart {
  staleFiles: Array<[pid: number, files: StaleFile[]]>;
  completed: number[];
  gone: number[];
  /** What could not be read while completing (reported after the scan's own unreadable entries). */
  completionUnreadable: UnreadableProcess[];
}

/** Scans `pids` and matches each process right after reading it, while its files are hot. */
export function scanStalePids(reader: ProcReader, pids: Iterable<number>, skipPid: number, input: StaleMatchInput): StalePart {
  const gatherer = new DiskFactGatherer(input.selfRootId, {
    procRoot: reader.root,
    changeSet: input.changeSet,
    ...(input.scratchDirs === undefined ? {} : { scratchDirs: input.scratchDirs }),
    compareMaxBytes: input.compareMaxBytes,
  });
  const disk: DiskFacts = new Map();
  const staleFilesOf = createStaleFileMatcher({
    changeSet: input.changeSet,
    disk,
    ...(input.scratchDirs === undefined ? {} : { scratchDirs: input.scratchDirs }),
  });
  const part: StalePart = { processes: [], unreadable: [], vanished: 0, staleFiles: [], completed: [], gone: [], completionUnreadable: [] };
  const onImage = (image: ProcessImage): void => {
    if (image.kernelThread) return;
    gatherer.factsOf(image, disk);
    const files = staleFilesOf(image);
    disk.clear();
    if (files.length === 0) return;
    part.staleFiles.push([image.pid, files]);
    if (completeImage(reader, image, part.completionUnreadable, 'owner')) part.completed.push(image.pid);
    else part.gone.push(image.pid);
  };
  const scanned = scanPids(reader, pids, skipPid, onImage);
  return { ...part, ...scanned };
}
