import type { EventEmitter } from 'eventemitter3';
import type { ExecuteEvents } from '../types/outcome.js';
import type { PendingSwitch } from '../hook/pending-switch.js';
import type { DrainedSwitch } from './drain-pending.js';

/** The run's typed events: the executor's, plus the run's own steps around it. */
export interface RunEvents extends ExecuteEvents {
  /** Outside the maintenance window, the run waits for it (watch). */
  'window:waiting': [window: string, nextWindowStart: string];
  /** hook: a pending switch is carried out (invocations folded into it since `since`). */
  'switch:start': [pending: PendingSwitch];
  /** hook: the switch was carried out before (its journal is finished): a repeated call restarts nothing. */
  'switch:finished-before': [pending: PendingSwitch, finishedAt: string];
  /** hook: a pending switch was carried out. */
  'switch:done': [drained: DrainedSwitch];
}

/** A run's emitter where the executor takes its own (every ExecuteEvents event is a RunEvents event). */
export function asExecuteEvents(events: EventEmitter<RunEvents>): EventEmitter<ExecuteEvents> {
  return events as unknown as EventEmitter<ExecuteEvents>;
}
