import { EventEmitter } from 'eventemitter3';
import { summaryLine } from '../report/outcome-text.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import type { SourceKind } from '../types/generation.js';
import type { RunEvents } from '../run/events.js';
import { resolveConfig, runSwitch, type ApplyResult } from '../run/switch-run.js';
import { LinkFollower } from '../watch/link-follower.js';
import { printableIO, type CliIO } from './io.js';
import { renderRunEvents } from './render-events.js';

export const DEFAULT_WATCH_DEBOUNCE_MS = 2000;
// A settled switch waits this long for another run (a hook, an apply) to let go of the lock.
const LOCK_WAIT_MS = 10 * 60_000;

export interface WatchCommandArgs {
  link: string;
  /** Quiet time before a burst of switches counts as settled (default 2000 ms; the CLI takes --debounce SECONDS). */
  debounceMs?: number | undefined;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  bus?: string | undefined;
  config?: string | undefined;
  procRoot?: string | undefined;
  stateDir: string;
  awareDirs?: string[] | undefined;
  /** Stops watching (the CLI aborts it on SIGINT and SIGTERM). */
  signal: AbortSignal;
  /** One etcd connection per switch run. */
  fleet?: FleetArgs | undefined;
}

/**
 * `restartd watch --link PATH`: follows a `current` or profile link and, once per settled switch,
 * runs the library's switch run from the previous target to the new one (outside the maintenance
 * window it waits for it). Runs until `signal` aborts; returns 0 then. A failed run is reported and
 * watching goes on.
 */
export async function runWatch(args: WatchCommandArgs, rawIO: CliIO): Promise<number> {
  const io = printableIO(rawIO);
  // Read once: a bad config is an error at start, not at the first switch.
  const config = await resolveConfig(args.config);
  const events = new EventEmitter<RunEvents>();
  renderRunEvents(events, io);
  let current = '';
  events.on('window:waiting', (window, nextStart) => io.out(`restartd watch: outside the maintenance window (${window}): ${current} waits until ${nextStart}\n`));
  const follower = new LinkFollower({
    link: args.link,
    debounceMs: args.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS,
    run: async (old, next) => {
      current = `${old} -> ${next}`;
      return runSwitch(
        {
          old,
          new: next,
          source: args.source,
          storeDir: args.storeDir,
          config,
          busAddress: args.bus,
          procRoot: args.procRoot,
          stateDir: args.stateDir,
          awareDirs: args.awareDirs,
          waitMs: LOCK_WAIT_MS,
          fleet: args.fleet,
          command: 'watch',
        },
        events,
        { whenClosed: 'wait', signal: args.signal },
      );
    },
  });
  follower.on('ready', (target) => io.out(`restartd watch: watching ${args.link} (${target === undefined ? 'missing' : `-> ${target}`})\n`));
  follower.on('switch:settled', (old, next) => io.out(`restartd watch: switch ${old} -> ${next}\n`));
  follower.on('link:missing', (path) => io.out(`restartd watch: ${path} is missing or dangling; waiting for it\n`));
  follower.on('link:found', (target) => io.out(`restartd watch: ${args.link} -> ${target}\n`));
  follower.on('run:done', (_old, _next, value) => {
    const run = value as ApplyResult;
    if (run.kind === 'busy') io.err(`restartd watch: another run still holds ${run.lockPath}; this switch was not applied\n`);
    else if (run.kind === 'done') io.out(`${summaryLine(run.report.outcomes, run.report.managerSteps)}\n`);
  });
  follower.on('run:error', (old, next, error) => io.err(`restartd watch: ${old} -> ${next} failed: ${error instanceof Error ? error.message : String(error)}\n`));
  follower.on('error', (error) => io.err(`restartd watch: ${error instanceof Error ? error.message : String(error)}\n`));
  await follower.start();
  if (!args.signal.aborted) await new Promise((resolve) => args.signal.addEventListener('abort', resolve, { once: true }));
  await follower.close();
  return 0;
}
