import { EventEmitter } from 'eventemitter3';
import type { ChangeSet } from './types/generation.js';
import type { StaleReport } from './report/stale-json.js';
import type { StatusReport } from './report/status-json.js';
import type { RunEvents } from './run/events.js';
import type { HookRequest, HookResult } from './run/hook-run.js';
import type { RunRequest } from './run/request.js';
import type { StatusRequest } from './run/status-run.js';
import type { ApplyResult } from './run/switch-run.js';
import type { WatchEvents, WatchRequest } from './run/watch-run.js';

/** Typed events: the run's (warning, plan:built, action:done, verify:done, aware:*, fleet:*, switch:*, ...) and the detection's. */
export interface RestartdEvents extends RunEvents, WatchEvents {
  diffed: [changeSet: ChangeSet];
  scanned: [summary: StaleReport['scanned']];
  detected: [report: StaleReport];
}

/** Defaults for every call; a request's own fields win. */
export type RestartdOptions = Pick<RunRequest, 'procRoot' | 'scratchDirs' | 'storeDir' | 'config' | 'busAddress' | 'stateDir' | 'awareDirs' | 'awareStateDir'>;

/** The options, then the request's fields that are set. */
function merged<T extends object>(options: RestartdOptions, request: T): RestartdOptions & T {
  const set = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
  return { ...options, ...set } as RestartdOptions & T;
}

/** Request shapes (the same names as the CLI's flags). */
export type PlanRequest = Pick<RunRequest, 'old' | 'new' | 'source' | 'storeDir' | 'config' | 'busAddress' | 'awareDirs' | 'procRoot'>;
export type ApplyRequest = RunRequest;

/**
 * The library's entry: the same runs the CLI's commands are, with typed events. Expected outcomes
 * (busy, deferred, suspended, ...) are results with a `kind` and the CLI's `exitCode`; a
 * RestartdError (with a literal `code`) is thrown for bad input and for failures before anything ran.
 */
export class Restartd extends EventEmitter<RestartdEvents> {
  constructor(private readonly options: RestartdOptions = {}) {
    super();
  }

  /** The whole picture of this machine: the object `restartd status --json` prints. */
  async status(request: Omit<StatusRequest, 'onPhase'> = {}): Promise<StatusReport> {
    const { runStatus } = await import('./run/status-run.js');
    const { report } = await runStatus(merged(this.options, request), this.events);
    this.emit('scanned', report.scanned);
    this.emit('detected', report);
    return report;
  }

  /**
   * The object `restartd plan --json` prints, `actions` included: the stale processes after a
   * switch from `old` to `new`, or on the live system without them, and what would be done.
   */
  async plan(request: PlanRequest = {}): Promise<StaleReport> {
    const { runPlan } = await import('./run/plan-run.js');
    const { report } = await runPlan(merged(this.options, request), this.events);
    this.emit('scanned', report.scanned);
    this.emit('detected', report);
    return report;
  }

  /**
   * The switch run `restartd apply` is: window and delay, pending and deferred records, lock,
   * journal, fleet, diff, detect, plan, execute, verify. Resolves to `{ kind, exitCode, ... }`:
   * `done` (with the plan, the outcomes and the warnings), `deferred` (outside the maintenance
   * window, exit 7), `busy` (another run holds the state dir's lock, exit 6). With `stateDir`,
   * journaled: an interrupted run is finished by the same call.
   */
  async apply(request: ApplyRequest = {}): Promise<ApplyResult> {
    const { runSwitch } = await import('./run/switch-run.js');
    return runSwitch(merged({ command: 'library', ...this.options } as RestartdOptions, request), this.events);
  }

  /**
   * The package manager's entry, as `restartd hook`: records the switch (repeated calls of one
   * transaction fold into one), then carries the pending switches out under the lock, holding the
   * caller at most `maxWaitMs` (or all of it with `foreground`). `suspend: true` records only.
   */
  async hook(request: HookRequest = {}): Promise<HookResult> {
    const { runHook } = await import('./run/hook-run.js');
    return runHook(merged({ command: 'hook', ...this.options } as RestartdOptions, request), this.events);
  }

  /**
   * `restartd watch`: follows `link` and runs the switch run once per settled switch (from the
   * previous target to the new one), waiting for the maintenance window when it is closed. Each
   * switch's run is a `watch:ran` event (its ApplyResult) or `watch:failed`; watching goes on.
   * Resolves when `signal` aborts, after the run in flight.
   */
  async watch(request: WatchRequest & { signal: AbortSignal }): Promise<void> {
    const { runWatch } = await import('./run/watch-run.js');
    const { signal, ...rest } = request;
    return runWatch(merged(this.options, rest), this as unknown as EventEmitter<RunEvents & WatchEvents>, signal);
  }

  // This emitter's events include every RunEvents event: the runs take it as it is.
  private get events(): EventEmitter<RunEvents> {
    return this as unknown as EventEmitter<RunEvents>;
  }
}

export function createRestartd(options: RestartdOptions = {}): Restartd {
  return new Restartd(options);
}
