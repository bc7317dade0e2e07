import { EventEmitter } from 'eventemitter3';
import type { ApplySwitchOptions, ApplySwitchResult } from './apply-switch.js';
import { RestartdError } from '../errors.js';
import type { ExecuteEvents } from '../types/outcome.js';
import type { RunEvents } from './events.js';
import { applyUnderLock } from './journaled-switch.js';
import { tryStateLock, type LockHolder } from '../journal/state-lock.js';
import { SwitchJournal } from '../journal/switch-journal.js';
import { finishTaken, hasPending, takePending, type PendingSwitch } from '../hook/pending-switch.js';

/** One pending switch carried out by a drain. */
export interface DrainedSwitch {
  pending: PendingSwitch;
  result: ApplySwitchResult;
  resumed: boolean;
}

/** A drain carried out the queue (`drained`, maybe empty), or left it to the run holding the lock (`queued`). */
export type DrainResult = { kind: 'drained'; switches: DrainedSwitch[] } | { kind: 'queued'; holder: LockHolder | undefined };

/**
 * Carries out the pending switches, one at a time, under the state dir's lock, each through the
 * journal (so a drain killed mid-way is finished by the next one). If another run holds the lock,
 * returns `queued` at once: that run picks the pending switch up before letting go of the lock.
 */
export async function drainPending(
  stateDir: string,
  base: Omit<ApplySwitchOptions, 'old' | 'new' | 'source' | 'storeDir' | 'journal' | 'dryRun'>,
  events: EventEmitter<ExecuteEvents> = new EventEmitter<ExecuteEvents>(),
  drainEvents: EventEmitter<RunEvents> = new EventEmitter<RunEvents>(),
): Promise<DrainResult> {
  const switches: DrainedSwitch[] = [];
  // A switch recorded just after the last take but before the release would wait for the next
  // hook: so check again after letting go, and take the lock back if it is still free.
  while (hasPending(stateDir)) {
    const attempt = tryStateLock(stateDir, 'hook');
    if (!attempt.acquired) return switches.length > 0 ? { kind: 'drained', switches } : { kind: 'queued', holder: attempt.holder };
    try {
      for (let pending = takePending(stateDir); pending !== undefined; pending = takePending(stateDir)) {
        const finishedAt = new SwitchJournal(stateDir, pending.old, pending.new).finishedAt;
        if (finishedAt !== undefined) {
          finishTaken(stateDir);
          drainEvents.emit('switch:finished-before', pending, finishedAt);
          continue;
        }
        drainEvents.emit('switch:start', pending);
        const options = {
          ...base,
          old: pending.old,
          new: pending.new,
          ...(pending.source === undefined ? {} : { source: pending.source }),
          ...(pending.storeDir === undefined ? {} : { storeDir: pending.storeDir }),
          dryRun: false,
        };
        let applied;
        try {
          applied = await applyUnderLock(options, stateDir, events);
        } catch (error) {
          // Bad generations stay bad: drop the switch. A bus that did not answer may later: keep it.
          if (!(error instanceof RestartdError && error.code === 'BUS')) finishTaken(stateDir);
          throw error;
        }
        const { result, resumed } = applied;
        finishTaken(stateDir);
        const drained = { pending, result, resumed };
        switches.push(drained);
        drainEvents.emit('switch:done', drained);
      }
    } finally {
      attempt.lock.release();
    }
  }
  return { kind: 'drained', switches };
}
