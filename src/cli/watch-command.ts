import { EventEmitter } from 'eventemitter3';
import { loadConfig } from '../config/index.js';
import { doneLine, summaryLine } from '../execute/outcome-text.js';
import type { ExecuteEvents } from '../execute/types.js';
import { applyJournaled, type JournaledApplyResult } from '../journal/journaled-apply.js';
import { LinkFollower } from '../watch/link-follower.js';
import { printableIO, type CliIO } from './io.js';
import type { SwitchRunArgs } from './switch-run-args.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import { waitForWindow, windowVerdict } from '../fleet/window-gate.js';
import { openFleetSession } from './fleet-cli.js';

export const DEFAULT_WATCH_DEBOUNCE_MS = 2000;
// A settled switch waits this long for another run (a hook, an apply) to let go of the lock.
const LOCK_WAIT_MS = 10 * 60_000;

export interface WatchCommandArgs extends SwitchRunArgs {
  link: string;
  /** Quiet time before a burst of switches counts as settled (default 2000 ms; the CLI takes --debounce SECONDS). */
  debounceMs?: number | undefined;
  /** Stops watching (the CLI aborts it on SIGINT and SIGTERM). */
  signal: AbortSignal;
  /** --fleet URL[,URL…] and the other --fleet-* flags (issue 7): one etcd connection for the whole watch. */
  fleet?: FleetArgs | undefined;
}

/**
 * `restartd watch --link PATH`: follows a `current` or profile link and, once per settled switch,
 * runs the journaled apply from the previous target to the new one. Runs until `signal` aborts;
 * returns 0 then. A failed run is reported and watching goes on.
 */
export async function runWatch(args: WatchCommandArgs, rawIO: CliIO): Promise<number> {
  const io = printableIO(rawIO);
  const config = await loadConfig(args.config);
  const events = new EventEmitter<ExecuteEvents>();
  events.on('warning', (message) => io.err(`restartd: warning: ${message}\n`));
  events.on('action:done', (outcome) => io.out(`${doneLine(outcome)}\n`));
  const fleet = await openFleetSession(args.fleet, config, events, io, { json: false, stateDir: args.stateDir });
  // fleet (issue 7): a switch that settles outside the maintenance window waits for it.
  const inWindow = async (old: string, next: string): Promise<void> => {
    const verdict = windowVerdict(config.fleet);
    if (verdict.open) return;
    io.out(`restartd watch: outside the maintenance window (${verdict.window}): ${old} -> ${next} waits until ${verdict.nextStart.toISOString()}\n`);
    const { ensureStateDir } = await import('../journal/state-dir.js');
    const { recordDeferred, clearDeferred } = await import('../fleet/fleet-state.js');
    ensureStateDir(args.stateDir);
    recordDeferred(args.stateDir, { old, new: next, command: 'watch' }, verdict);
    if (!(await waitForWindow(config.fleet, args.signal))) throw new Error('stopped while waiting for the maintenance window; the switch was not applied');
    clearDeferred(args.stateDir, old, next);
  };
  const follower = new LinkFollower({
    link: args.link,
    debounceMs: args.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS,
    run: async (old, next) => {
      await inWindow(old, next);
      return applyJournaled(
        {
          old,
          new: next,
          source: args.source,
          storeDir: args.storeDir,
          config,
          busAddress: args.bus,
          dryRun: false,
          procRoot: args.procRoot,
          fleet: fleet.gate,
        },
        { stateDir: args.stateDir, waitMs: LOCK_WAIT_MS, command: 'watch' },
        events,
      );
    },
  });
  follower.on('ready', (target) => io.out(`restartd watch: watching ${args.link} (${target === undefined ? 'missing' : `-> ${target}`})\n`));
  follower.on('switch:settled', (old, next) => io.out(`restartd watch: switch ${old} -> ${next}\n`));
  follower.on('link:missing', (path) => io.out(`restartd watch: ${path} is missing or dangling; waiting for it\n`));
  follower.on('link:found', (target) => io.out(`restartd watch: ${args.link} -> ${target}\n`));
  follower.on('run:done', (_old, _next, result) => {
    const run = result as JournaledApplyResult;
    if (run.kind === 'busy') io.err(`restartd watch: another run still holds ${run.lockPath}; this switch was not applied\n`);
    else io.out(`${summaryLine(run.result.report.outcomes, run.result.report.managerSteps)}\n`);
  });
  follower.on('run:error', (old, next, error) => io.err(`restartd watch: ${old} -> ${next} failed: ${error instanceof Error ? error.message : String(error)}\n`));
  follower.on('error', (error) => io.err(`restartd watch: ${error instanceof Error ? error.message : String(error)}\n`));
  await follower.start();
  if (!args.signal.aborted) await new Promise((resolve) => args.signal.addEventListener('abort', resolve, { once: true }));
  await follower.close();
  await fleet.close();
  return 0;
}
