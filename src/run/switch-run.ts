import { EventEmitter } from 'eventemitter3';
import type { Config } from '../config/schema.js';
import { RestartdError } from '../errors.js';
import { applySwitch, type ApplySwitchOptions, type ApplySwitchResult } from './apply-switch.js';
import { asExecuteEvents, type RunEvents } from './events.js';
import { windowVerdict, type WindowVerdict } from '../fleet/window-gate.js';
import type { LockHolder } from '../journal/state-lock.js';
import { EXIT, type ExitCode } from '../types/exit-codes.js';
import { applyExitCode } from './apply-exit.js';
import { applySummary, type ApplySummary } from '../report/apply-json.js';
import { openFleetSession } from './fleet-session.js';
import { publishRun } from './run-channel.js';
import { resolveConfig } from './resolve-config.js';
import type { RollbackArmed, RolledBack } from '../types/rollback.js';
import { armedRollback } from './rollback-armed.js';
import type { FleetHeld } from '../types/fleet.js';
import { rollbackOption } from './rollback-option.js';
import { connectOptionalManager } from './optional-manager.js';
import { awareStateDirOf, LIVE, type RunRequest } from './request.js';

/** How a switch run ended; `exitCode` is exactly the CLI's for that run. */
export type ApplyResult =
  | {
      kind: 'done';
      exitCode: ExitCode;
      dryRun: boolean;
      /** What the switch changed; absent for a run on the live scan. */
      changeSet?: ApplySwitchResult['changeSet'];
      plan: ApplySwitchResult['plan'];
      report: ApplySwitchResult['report'];
      /** The counts `apply --json` prints: ok, failed, skipped, left running, reboot hints. */
      summary: ApplySummary;
      warnings: string[];
      /** An interrupted run of the same switch was finished by this one. */
      resumed: boolean;
      /** The journal's dir in the state dir (a journaled run). */
      journalDir?: string;
      /** Restarts onto the new generation failed and the run rolled back (exit 8; not ok: 5). */
      rolledBack?: RolledBack;
      /** A dry run with rollback armed: what a failure onto the new generation would roll back. */
      rollback?: RollbackArmed;
      /** fleet: another host rolled this new generation back; nothing was restarted (exit 8). */
      held?: FleetHeld;
    }
  | {
      kind: 'deferred';
      exitCode: typeof EXIT.DEFERRED;
      /** The window in words, and when it opens next (ISO 8601). */
      window: string;
      nextWindowStart: string;
      /** The switch was recorded as pending in the state dir (`restartd hook` carries it out in the window). */
      pending: boolean;
    }
  | { kind: 'busy'; exitCode: typeof EXIT.BUSY; lockPath: string; holder: LockHolder | undefined };

export interface SwitchRunControl {
  /** Outside the maintenance window: `defer` (record it, exit 7; apply) or `wait` for it (watch). */
  whenClosed?: 'defer' | 'wait';
  /** Stops a wait for the window. */
  signal?: AbortSignal;
}

// In a module of its own (plan and status load it without the apply side); still exported here.
export { resolveConfig };

/**
 * One switch, end to end: maintenance window and delay → pending/deferred records → lock → journal →
 * fleet gate → diff, detect, plan, execute, verify → clear what is done. Without `old`/`new` the run
 * acts on the live scan. Expected outcomes (busy, deferred) are results, never thrown; a
 * RestartdError is thrown only before anything was executed (bad input, bus unreachable).
 */
export async function runSwitch(request: RunRequest, runEvents: EventEmitter<RunEvents> = new EventEmitter<RunEvents>(), control: SwitchRunControl = {}): Promise<ApplyResult> {
  const events = asExecuteEvents(runEvents);
  if ((request.old === undefined) !== (request.new === undefined)) {
    throw new RestartdError('USAGE', `apply needs both --old OLD and --new NEW, or neither (the live scan); got only ${request.old === undefined ? '--new' : '--old'}`);
  }
  const loaded = await resolveConfig(request.config);
  const config = request.scratchDirs === undefined ? loaded : { ...loaded, scratchDirs: [...request.scratchDirs] };
  const dryRun = request.dryRun === true;
  const rollback = rollbackOption(request, config, (message) => events.emit('warning', message));
  const verdict: WindowVerdict = dryRun ? { open: true } : windowVerdict(config.fleet);
  if (!verdict.open) {
    if (control.whenClosed !== 'wait') return defer(request, verdict);
    runEvents.emit('window:waiting', verdict.window, verdict.nextStart.toISOString());
    await waitForOpenWindow(request, config, verdict, control.signal);
  }
  const options: Omit<ApplySwitchOptions, 'journal'> = {
    old: request.old,
    new: request.new,
    source: request.source,
    storeDir: request.storeDir,
    config,
    busAddress: request.busAddress,
    dryRun,
    concurrency: request.concurrency,
    jobTimeoutMs: request.jobTimeoutMs,
    procRoot: request.procRoot,
    awareDirs: request.awareDirs,
    awareStateDir: awareStateDirOf(request),
    rollback,
  };
  if (dryRun) {
    // No slots, no lock, no journal, and the bus only for unit facts: a dry run works without one.
    const warnings: string[] = [];
    const manager = await connectOptionalManager(request.busAddress, warnings, { needed: true, strict: true });
    for (const warning of warnings) events.emit('warning', warning);
    try {
      const result = await applySwitch({ ...options, manager: manager ?? null }, events);
      const armed = rollback === undefined || request.old === undefined || request.new === undefined ? undefined : armedRollback(rollback, request.old, request.new, result.plan);
      return done(result, { dryRun, resumed: false, ...(armed === undefined ? {} : { rollback: armed }) });
    } finally {
      manager?.close();
    }
  }
  if (request.stateDir === undefined) {
    const fleet = await openFleetSession(request.fleet, config, events, undefined);
    try {
      return done(await applySwitch({ ...options, fleet: fleet.gate }, events), { dryRun, resumed: false });
    } finally {
      await fleet.close();
    }
  }
  const stateDir = request.stateDir;
  const [{ ensureStateDir }, { acquireStateLock }, { applyUnderLock }] = await Promise.all([
    import('../journal/state-dir.js'),
    import('../journal/state-lock.js'),
    import('./journaled-switch.js'),
  ]);
  ensureStateDir(stateDir);
  const attempt = await acquireStateLock(stateDir, { waitMs: request.waitMs ?? 0, command: request.command ?? 'library' });
  if (!attempt.acquired) return { kind: 'busy', exitCode: EXIT.BUSY, lockPath: attempt.path, holder: attempt.holder };
  try {
    const fleet = await openFleetSession(request.fleet, config, events, stateDir);
    try {
      publishRun({ events, stateDir });
      const run = await applyUnderLock({ ...options, fleet: fleet.gate }, stateDir, events, request.retry === true);
      const { clearDeferred } = await import('../fleet/fleet-state.js');
      clearDeferred(stateDir, request.old ?? LIVE, request.new ?? LIVE);
      return done(run.result, { dryRun, resumed: run.resumed, journalDir: run.journalDir });
    } finally {
      await fleet.close();
    }
  } finally {
    attempt.lock.release();
  }
}

function done(result: ApplySwitchResult, extra: { dryRun: boolean; resumed: boolean; journalDir?: string; rollback?: RollbackArmed }): ApplyResult {
  return {
    kind: 'done',
    exitCode: applyExitCode(result.report, result.rolledBack, result.held),
    ...extra,
    ...(result.changeSet === undefined ? {} : { changeSet: result.changeSet }),
    plan: result.plan,
    report: result.report,
    summary: applySummary(result.report.outcomes),
    warnings: result.warnings,
    ...(result.rolledBack === undefined ? {} : { rolledBack: result.rolledBack }),
    ...(result.held === undefined ? {} : { held: result.held }),
  };
}

type ClosedWindow = Extract<WindowVerdict, { open: false }>;

/**
 * Outside the maintenance window nothing is done. With a state dir, a switch between generations is
 * recorded as pending for `restartd hook` (a timer may run it), and as deferred for `status`.
 */
async function defer(request: RunRequest, verdict: ClosedWindow): Promise<ApplyResult> {
  let pending = false;
  if (request.stateDir !== undefined) {
    const [{ ensureStateDir }, { recordDeferred }] = await Promise.all([import('../journal/state-dir.js'), import('../fleet/fleet-state.js')]);
    ensureStateDir(request.stateDir);
    if (request.old !== undefined && request.new !== undefined) {
      const { recordPending } = await import('../hook/pending-switch.js');
      recordPending(request.stateDir, {
        old: request.old,
        new: request.new,
        ...(request.source === undefined ? {} : { source: request.source }),
        ...(request.storeDir === undefined ? {} : { storeDir: request.storeDir }),
      });
      pending = true;
    }
    recordDeferred(request.stateDir, { old: request.old ?? LIVE, new: request.new ?? LIVE, command: deferredCommand(request) }, verdict);
  }
  return { kind: 'deferred', exitCode: EXIT.DEFERRED, window: verdict.window, nextWindowStart: verdict.nextStart.toISOString(), pending };
}

function deferredCommand(request: RunRequest): 'apply' | 'hook' | 'watch' {
  return request.command === 'hook' || request.command === 'watch' ? request.command : 'apply';
}

/** `watch`: a switch that settled outside the window waits for it (status shows it as deferred meanwhile). */
async function waitForOpenWindow(request: RunRequest, config: Config, verdict: ClosedWindow, signal: AbortSignal | undefined): Promise<void> {
  const old = request.old ?? LIVE;
  const next = request.new ?? LIVE;
  const [{ recordDeferred, clearDeferred }, { waitForWindow }] = await Promise.all([import('../fleet/fleet-state.js'), import('../fleet/window-gate.js')]);
  if (request.stateDir !== undefined) {
    const { ensureStateDir } = await import('../journal/state-dir.js');
    ensureStateDir(request.stateDir);
    recordDeferred(request.stateDir, { old, new: next, command: deferredCommand(request) }, verdict);
  }
  if (!(await waitForWindow(config.fleet, signal ?? new AbortController().signal))) {
    throw new RestartdError('ABORTED', 'stopped while waiting for the maintenance window; the switch was not applied');
  }
  if (request.stateDir !== undefined) clearDeferred(request.stateDir, old, next);
}
