import { EventEmitter } from 'eventemitter3';
import { applySwitch, type ApplySwitchOptions, type ApplySwitchResult } from '../execute/apply-switch.js';
import type { ExecuteEvents, Outcome } from '../execute/types.js';
import { acquireStateLock, type LockHolder } from './state-lock.js';
import { SwitchJournal } from './switch-journal.js';

import { ensureStateDir } from './state-dir.js';

export { DEFAULT_STATE_DIR } from './state-dir.js';

export interface JournalOptions {
  /** Where the lock and the journals live (default /var/lib/restartd). */
  stateDir: string;
  /** How long to wait for another run to let go of the lock; 0: do not wait. */
  waitMs: number;
  /** Names the run in the lock file ("apply", "hook", "watch"). */
  command: string;
  /** Run again the actions an earlier run did whose unit stayed stale (see SwitchJournal). */
  retry?: boolean;
}

/** A journaled apply either ran (`result`), or found another run holding the lock (`busy`). */
export type JournaledApplyResult =
  | { kind: 'done'; result: ApplySwitchResult; journalDir: string; resumed: boolean }
  | { kind: 'busy'; lockPath: string; holder: LockHolder | undefined };

/**
 * applySwitch under the state dir's lock, with the switch's journal: the plan is written before
 * acting, each outcome appended as it comes; after a crash, the same call finishes the job without
 * running again what was done. Not for --dry-run (nothing to journal, no lock needed).
 */
export async function applyJournaled(
  options: Omit<ApplySwitchOptions, 'journal'>,
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

/**
 * The journaled apply itself, for a caller that already holds the state dir's lock (see
 * acquireStateLock): `restartd hook` drains its queue under one lock.
 */
export async function applyUnderLock(
  options: Omit<ApplySwitchOptions, 'journal'>,
  stateDir: string,
  events: EventEmitter<ExecuteEvents>,
  retry = false,
): Promise<{ result: ApplySwitchResult; journalDir: string; resumed: boolean }> {
  const journal = new SwitchJournal(stateDir, options.old, options.new, retry);
  const resumed = journal.resuming;
  // Synchronous appends: an outcome is on disk before the next action starts.
  const onDone = (outcome: Outcome): void => journal.record(outcome);
  const onVerified = (outcome: Outcome): void => journal.recordVerified(outcome);
  events.on('action:done', onDone);
  events.on('verify:done', onVerified);
  try {
    const result = await applySwitch({ ...options, journal }, events);
    journal.finish(result.report.outcomes);
    return { result, journalDir: journal.dir, resumed };
  } finally {
    events.off('action:done', onDone);
    events.off('verify:done', onVerified);
  }
}
