import type { EventEmitter } from 'eventemitter3';
import { LinkFollower } from '../watch/link-follower.js';
import type { RunEvents } from './events.js';
import type { RunRequest } from './request.js';
import { resolveConfig, runSwitch, type ApplyResult } from './switch-run.js';

/** Quiet time before a burst of switches counts as settled. */
export const DEFAULT_WATCH_DEBOUNCE_MS = 2000;
/** A settled switch waits this long for another run (a hook, an apply) to let go of the lock. */
const LOCK_WAIT_MS = 10 * 60_000;

/** What `watch` takes beyond a run's request: the link to follow (old and new come from it). */
export interface WatchRequest extends Omit<RunRequest, 'old' | 'new' | 'waitMs' | 'command' | 'dryRun'> {
  /** A `current`, profile or deployment link. */
  link: string;
  /** Quiet time before a burst of changes counts as one switch (default 2000 ms). */
  debounceMs?: number | undefined;
}

/** What a watch tells, beside each switch run's own events. */
export interface WatchEvents {
  /** Watching; `target` is where the link points now (undefined: missing or dangling). */
  'watch:ready': [link: string, target: string | undefined];
  /** A burst of changes settled: the switch run from `old` to `next` follows. */
  'watch:switch': [old: string, next: string];
  /** That switch's run starts (runs never overlap: a later switch waits for the one in flight). */
  'watch:running': [old: string, next: string];
  /** The run of that switch ended (done, deferred while it waited for the window, or busy). */
  'watch:ran': [old: string, next: string, result: ApplyResult];
  /** The run of that switch failed; watching goes on. */
  'watch:failed': [old: string, next: string, error: unknown];
  /** The link is missing or dangling: nothing runs until it points at a directory again. */
  'watch:missing': [link: string];
  /** The first target after the link was missing at start: remembered, nothing to run against. */
  'watch:found': [target: string];
  /** The watch itself (not a run) hit an error; watching goes on where it can. */
  'watch:error': [error: unknown];
}

/**
 * Follows `link` and, once per settled switch, runs the switch run from the previous target to the
 * new one; outside the maintenance window it waits for the window. The config is read once, so a
 * bad one is an error at start, not at the first switch. Resolves when `signal` aborts, after the
 * run in flight.
 */
export async function runWatch(request: WatchRequest, events: EventEmitter<RunEvents & WatchEvents>, signal: AbortSignal): Promise<void> {
  const config = await resolveConfig(request.config);
  const { link, debounceMs, ...rest } = request;
  const runEvents = events as unknown as EventEmitter<RunEvents>;
  const follower = new LinkFollower({
    link,
    debounceMs: debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS,
    run: (old, next) => {
      events.emit('watch:running', old, next);
      // A rollback flips the followed link back: the watch then sees a switch to the old generation, where nothing is stale.
      return runSwitch({ ...rest, link, old, new: next, config, waitMs: LOCK_WAIT_MS, command: 'watch' }, runEvents, { whenClosed: 'wait', signal });
    },
  });
  follower.on('ready', (target) => events.emit('watch:ready', link, target));
  follower.on('switch:settled', (old, next) => events.emit('watch:switch', old, next));
  follower.on('link:missing', (path) => events.emit('watch:missing', path));
  follower.on('link:found', (target) => events.emit('watch:found', target));
  follower.on('run:done', (old, next, value) => events.emit('watch:ran', old, next, value as ApplyResult));
  follower.on('run:error', (old, next, error) => events.emit('watch:failed', old, next, error));
  follower.on('error', (error) => events.emit('watch:error', error));
  await follower.start();
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await follower.close();
}
