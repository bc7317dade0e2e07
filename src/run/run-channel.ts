import { channel } from 'node:diagnostics_channel';
import type { EventEmitter } from 'eventemitter3';
import type { ExecuteEvents } from '../types/outcome.js';

/**
 * The diagnostics channel on which each journaled run (apply, watch, hook's drain) is published as it
 * starts under the lock: its emitter and its state dir. An observer in the same process (a tracer,
 * the crash tests' pause) subscribes with `diagnostics_channel.subscribe('restartd:run', …)`; with no
 * subscriber, publishing costs nothing and the run does not know anyone listens.
 */
export const RUN_CHANNEL = 'restartd:run';

export interface PublishedRun {
  events: EventEmitter<ExecuteEvents>;
  stateDir: string;
}

const runs = channel(RUN_CHANNEL);

export function publishRun(run: PublishedRun): void {
  if (runs.hasSubscribers) runs.publish(run);
}
