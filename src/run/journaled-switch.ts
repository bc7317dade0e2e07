import { EventEmitter } from 'eventemitter3';
import { RestartdError } from '../errors.js';
import { ensureStateDir } from '../journal/state-dir.js';
import { acquireStateLock, type LockHolder } from '../journal/state-lock.js';
import { applySwitch, resumeRollback, type ApplySwitchOptions, type ApplySwitchResult } from './apply-switch.js';
import type { RollbackJournal } from './rollback.js';
import type { ExecuteEvents, JobJournal, Outcome } from '../types/outcome.js';
import type { Plan, PlannedAction } from '../types/plan.js';
import { SwitchJournal, type FinishedRollback } from '../journal/switch-journal.js';
import type { RolledBack } from '../types/rollback.js';
import type { UserNotice } from '../types/aware.js';
import { openLiveJournal } from './live-journal.js';

export interface JournaledSwitch {
  result: ApplySwitchResult;
  journalDir: string;
  /** An interrupted run of the same switch was finished by this one. */
  resumed: boolean;
}

/**
 * applySwitch with the switch's journal, for a caller that holds the state dir's lock: the plan is
 * written before acting, each outcome appended as it comes; after a crash, the same call finishes
 * the job without running again what was done. A switch is keyed by its generations; a run on the
 * live scan by what was stale (see openLiveJournal).
 */
export async function applyUnderLock(
  options: Omit<ApplySwitchOptions, 'journal' | 'onDetected'>,
  stateDir: string,
  events: EventEmitter<ExecuteEvents>,
  retry = false,
): Promise<JournaledSwitch> {
  let journal: SwitchJournal | undefined =
    options.old === undefined || options.new === undefined ? undefined : new SwitchJournal(stateDir, options.old, options.new, retry);
  let resumed = journal?.resuming ?? false;
  const onDetected = (stale: Parameters<NonNullable<ApplySwitchOptions['onDetected']>>[0]): void => {
    if (journal !== undefined) return;
    journal = openLiveJournal(stateDir, stale, retry);
    resumed = journal.resuming;
  };
  const current = (): SwitchJournal => {
    if (journal === undefined) throw new RestartdError('INTERNAL', 'the journal was used before the scan chose it');
    return journal;
  };
  // A rollback's restarts go to its own journal (keyed apart from the switch's), once it began.
  let rollbackJournal: SwitchJournal | undefined;
  const recording = (): SwitchJournal => rollbackJournal ?? current();
  const rollbackOf = (): SwitchJournal => {
    if (rollbackJournal === undefined) throw new RestartdError('INTERNAL', "the rollback's journal was used before the rollback began");
    return rollbackJournal;
  };
  const rollback: RollbackJournal = {
    begun: (intent, outcomes) => {
      const key = `${current().key}-rollback-${Date.now()}`;
      current().recordRollback('begun', intent, { key, outcomes });
      rollbackJournal = new SwitchJournal(stateDir, intent.from, intent.to, false, key);
    },
    flipped: (intent) => current().recordRollback('flipped', intent),
    restarts: { begin: (plan) => rollbackOf().begin(plan), skipDone: (action) => rollbackOf().skipDone(action) },
    finished: (result) => {
      rollbackOf().finish(result.outcomes);
      rollbackJournal = undefined;
      current().recordRollback('finished', result, { ok: result.ok, rollbackOutcomes: result.outcomes, ...(result.cause === undefined ? {} : { cause: result.cause }) });
    },
  };
  // Synchronous appends: an outcome is on disk before the next action starts.
  const onDone = (outcome: Outcome): void => recording().record(outcome);
  const onVerified = (outcome: Outcome): void => recording().recordVerified(outcome);
  events.on('action:done', onDone);
  events.on('verify:done', onVerified);
  try {
    const journaled = {
      begin: (plan: Plan) => current().begin(plan),
      skipDone: (action: PlannedAction) => current().skipDone(action),
      rollback,
      // The journal the scan chose: every submitted job is written down in the one the run records to.
      jobs: {
        submitting: (action, submission) => current().jobs.submitting(action, submission),
        submitted: (action, submission) => current().jobs.submitted(action, submission),
        interrupted: (action) => current().jobs.interrupted(action),
      } satisfies JobJournal,
      // Users told once per switch (a run on the live scan: once per process, see tellUsers).
      users: { told: (uid: number) => current().toldUser(uid), record: (notice: UserNotice) => current().recordNotified(notice), live: options.old === undefined },
    };
    const pending = journal?.pendingRollback;
    const plan = journal?.unfinishedPlan;
    const earlier = journal?.finishedRollback;
    if (earlier !== undefined && journal !== undefined) {
      // Rolled back by an earlier run: reported again, nothing done again (--retry starts afresh).
      return { result: reportEarlierRollback(earlier), journalDir: journal.dir, resumed: false };
    }
    let result: ApplySwitchResult;
    if (pending !== undefined && plan !== undefined) {
      // Killed while rolling back: finish the rollback, never the switch forward again.
      current().begin(plan);
      rollbackJournal = new SwitchJournal(stateDir, pending.intent.from, pending.intent.to, false, pending.key);
      result = await resumeRollback({ ...options, journal: journaled }, pending, plan, events);
    } else {
      result = await applySwitch({ ...options, onDetected, journal: journaled }, events);
    }
    current().finish(result.report.outcomes);
    return { result, journalDir: current().dir, resumed };
  } finally {
    events.off('action:done', onDone);
    events.off('verify:done', onVerified);
  }
}

/** A finished rollback of this switch as its run reported it: the switch's outcomes, the rollback's. */
function reportEarlierRollback(earlier: FinishedRollback): ApplySwitchResult {
  const { intent, ok, cause, outcomes, rollbackOutcomes, at } = earlier;
  const rolledBack: RolledBack = { ...intent, ok, ...(ok ? {} : { code: 'ROLLBACK_FAILED' as const, cause: cause ?? 'the rollback failed' }), outcomes: rollbackOutcomes, earlier: at };
  return { plan: earlier.plan ?? { daemonReload: false, actions: [] }, report: { outcomes, managerSteps: [], durationMs: 0 }, warnings: [], rolledBack };
}

export interface JournalOptions {
  /** Where the lock and the journals live (default /var/lib/restartd). */
  stateDir: string;
  /** How long to wait for another run to let go of the lock; 0: do not wait. */
  waitMs: number;
  /** Names the run in the lock file ("apply", "hook", "watch"). */
  command: string;
  /** Run again the actions an earlier run did whose unit stayed stale. */
  retry?: boolean;
}

/** A journaled apply either ran (`done`), or found another run holding the lock (`busy`). */
export type JournaledApplyResult =
  | ({ kind: 'done' } & JournaledSwitch)
  | { kind: 'busy'; lockPath: string; holder: LockHolder | undefined };

/**
 * applySwitch under the state dir's lock, with the switch's journal (see applyUnderLock), and
 * nothing else of a run: no maintenance window, no fleet. `runSwitch` is the whole run.
 */
export async function applyJournaled(
  options: Omit<ApplySwitchOptions, 'journal' | 'onDetected'>,
  journalOptions: JournalOptions,
  events: EventEmitter<ExecuteEvents> = new EventEmitter<ExecuteEvents>(),
): Promise<JournaledApplyResult> {
  ensureStateDir(journalOptions.stateDir);
  const attempt = await acquireStateLock(journalOptions.stateDir, { waitMs: journalOptions.waitMs, command: journalOptions.command });
  if (!attempt.acquired) return { kind: 'busy', lockPath: attempt.path, holder: attempt.holder };
  try {
    return { kind: 'done', ...(await applyUnderLock(options, journalOptions.stateDir, events, journalOptions.retry)) };
  } finally {
    attempt.lock.release();
  }
}
