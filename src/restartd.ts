import { EventEmitter } from 'eventemitter3';
import type { Config } from './config/schema.js';
import { detectStale } from './detect.js';
import type { ApplySwitchResult } from './execute/apply-switch.js';
import type { ExecuteEvents } from './execute/types.js';
import type { ChangeSet, SourceKind } from './generation/types.js';
import { buildStaleReport, type StaleReport } from './report/stale-json.js';

/** Typed events, one per pipeline step; `apply` adds the executor's (plan:built, action:done, verify:done, aware:*, ...). */
export interface RestartdEvents extends ExecuteEvents {
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

export interface ApplyRequest extends PlanRequest {
  /** Print-only: every outcome says what would be done. */
  dryRun?: boolean;
  /** A parsed config, or the path of one (default /etc/restartd/config.json if present). */
  config?: Config | string;
  /** systemd's bus (default DBUS_SYSTEM_BUS_ADDRESS, then the system bus). */
  busAddress?: string;
  /** Journal and lock in this state dir (crash-safe, resumable); unset: no journal. */
  stateDir?: string;
  /** How long to wait for another run's lock (with stateDir). */
  waitMs?: number;
  /** Update-aware registration dirs (default the system dir and each stale user's). */
  awareDirs?: string[];
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

  /**
   * Carries a switch out through systemd: diff, detect, plan by policy, execute, verify (see
   * applySwitch); with `stateDir`, journaled under the state dir's lock, and an interrupted run is
   * finished by the same call. Throws RestartdError `BUSY` when another run holds the lock.
   */
  async apply(request: ApplyRequest): Promise<ApplySwitchResult> {
    const [{ loadConfig }, { applySwitch }] = await Promise.all([import('./config/load-config.js'), import('./execute/apply-switch.js')]);
    const config = typeof request.config === 'object' ? request.config : await loadConfig(request.config);
    const options = {
      old: request.old,
      new: request.new,
      source: request.source,
      storeDir: this.options.storeDir,
      config,
      busAddress: request.busAddress,
      dryRun: request.dryRun ?? false,
      procRoot: this.options.procRoot,
      awareDirs: request.awareDirs,
    };
    // This emitter's events include every ExecuteEvents event: it is passed on as it is.
    const events = this as unknown as EventEmitter<ExecuteEvents>;
    if (request.stateDir === undefined || request.dryRun === true) return applySwitch(options, events);
    const { applyJournaled } = await import('./journal/journaled-apply.js');
    const run = await applyJournaled(options, { stateDir: request.stateDir, waitMs: request.waitMs ?? 0, command: 'library' }, events);
    if (run.kind === 'busy') {
      const { RestartdError } = await import('./errors.js');
      const who = run.holder === undefined ? 'another restartd run' : `restartd ${run.holder.command} (pid ${run.holder.pid})`;
      throw new RestartdError('BUSY', `${who} holds ${run.lockPath}: nothing done`, { subject: run.lockPath });
    }
    return run.result;
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
