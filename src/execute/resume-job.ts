import type { JobSubmission } from '../types/outcome.js';
import type { UnitState } from '../types/systemd.js';

/** What a resumed run does with a job an interrupted run submitted (or was about to). */
export type ResumeDecision =
  /** A job is queued for the unit: wait for its end, never submit another. */
  | { kind: 'wait'; jobPath: string }
  /** The unit changed as the job would change it: it ran. */
  | { kind: 'done'; why: string }
  /** Nothing says it ran: the call never reached systemd. */
  | { kind: 'run' };

/**
 * Decides from the facts, not from the plan: a (re)start ran when the unit's InvocationID (or its
 * main process) changed since the record; a stop when the unit is down; a reload when its state
 * changed (active → reloading → active). Pure.
 */
export function decideResume(before: JobSubmission, now: UnitState): ResumeDecision {
  if (now.jobPath !== undefined) return { kind: 'wait', jobPath: now.jobPath };
  switch (before.method) {
    case 'RestartUnit':
    case 'StartUnit':
      if (now.invocationId !== '' && now.invocationId !== before.invocationId) return { kind: 'done', why: `its InvocationID changed (${before.invocationId || 'none'} -> ${now.invocationId})` };
      if (now.execMainStartUs !== before.execMainStartUs && now.mainPid !== 0) return { kind: 'done', why: `its main process changed (PID ${before.mainPid} -> ${now.mainPid})` };
      return { kind: 'run' };
    case 'StopUnit':
      return ['inactive', 'failed'].includes(now.activeState) ? { kind: 'done', why: `it is ${now.activeState}` } : { kind: 'run' };
    case 'ReloadUnit':
      return now.stateChangeUs !== before.stateChangeUs ? { kind: 'done', why: 'its state changed since' } : { kind: 'run' };
  }
}
