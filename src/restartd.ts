import { EventEmitter } from 'eventemitter3';
import { detectStale } from './detect.js';
import type { ChangeSet, SourceKind } from './generation/types.js';
import { buildStaleReport, type StaleReport } from './report/stale-json.js';

/** Typed events, one per pipeline step. */
export interface RestartdEvents {
  diffed: [changeSet: ChangeSet];
  scanned: [summary: StaleReport['scanned']];
  detected: [report: StaleReport];
}

export interface RestartdOptions {
  procRoot?: string;
  /** Deleted files under these dirs are scratch, not installed software (default /tmp, /var, /run, /dev/shm). */
  scratchDirs?: readonly string[];
  storeDir?: string;
}

export interface PlanRequest {
  old: string;
  new: string;
  source?: SourceKind;
}

/** The library's entry: the pipeline with typed events. */
export class Restartd extends EventEmitter<RestartdEvents> {
  constructor(private readonly options: RestartdOptions = {}) {
    super();
  }

  /** Stale processes on the live system, from deleted and replaced files alone. */
  async status(): Promise<StaleReport> {
    return this.detect(undefined);
  }

  /** Stale processes after a switch from `old` to `new`. */
  async plan(request: PlanRequest): Promise<StaleReport> {
    const { diffGenerations } = await import('./generation/index.js');
    const changeSet = await diffGenerations(request.old, request.new, {
      ...(request.source === undefined ? {} : { source: request.source }),
      ...(this.options.storeDir === undefined ? {} : { storeDir: this.options.storeDir }),
    });
    this.emit('diffed', changeSet);
    return this.detect(changeSet);
  }

  private async detect(changeSet: ChangeSet | undefined): Promise<StaleReport> {
    const detection = await detectStale({
      changeSet,
      ...(this.options.procRoot === undefined ? {} : { procRoot: this.options.procRoot }),
      ...(this.options.scratchDirs === undefined ? {} : { scratchDirs: this.options.scratchDirs }),
    });
    const report = buildStaleReport({ ...detection, changeSet });
    this.emit('scanned', report.scanned);
    this.emit('detected', report);
    return report;
  }
}

export function createRestartd(options: RestartdOptions = {}): Restartd {
  return new Restartd(options);
}
