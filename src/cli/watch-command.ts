import { EventEmitter } from 'eventemitter3';
import { heldText, rollbackLine } from '../report/rollback-text.js';
import { summaryLine } from '../report/outcome-text.js';
import type { RunEvents } from '../run/events.js';
import { DEFAULT_WATCH_DEBOUNCE_MS, runWatch as watchRun, type WatchEvents, type WatchRequest } from '../run/watch-run.js';
import { printableIO, type CliIO } from './io.js';
import { renderRunEvents } from './render-events.js';

export { DEFAULT_WATCH_DEBOUNCE_MS };

export interface WatchCommandArgs extends WatchRequest {
  stateDir: string;
  /** Stops watching (the CLI aborts it on SIGINT and SIGTERM). */
  signal: AbortSignal;
}

/**
 * `restartd watch --link PATH`: the library's watch run (src/run/watch-run.ts), its steps printed.
 * Runs until `signal` aborts; returns 0 then. A failed run is reported and watching goes on.
 */
export async function runWatch(args: WatchCommandArgs, rawIO: CliIO): Promise<number> {
  const io = printableIO(rawIO);
  const events = new EventEmitter<RunEvents & WatchEvents>();
  renderRunEvents(events as unknown as EventEmitter<RunEvents>, io);
  let current = '';
  const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  events.on('window:waiting', (window, nextStart) => io.out(`restartd watch: outside the maintenance window (${window}): ${current} waits until ${nextStart}\n`));
  events.on('watch:ready', (link, target) => io.out(`restartd watch: watching ${link} (${target === undefined ? 'missing' : `-> ${target}`})\n`));
  events.on('watch:switch', (old, next) => io.out(`restartd watch: switch ${old} -> ${next}\n`));
  events.on('watch:running', (old, next) => (current = `${old} -> ${next}`));
  events.on('watch:missing', (path) => io.out(`restartd watch: ${path} is missing or dangling; waiting for it\n`));
  events.on('watch:found', (target) => io.out(`restartd watch: ${args.link} -> ${target}\n`));
  events.on('watch:ran', (_old, _next, run) => {
    if (run.kind === 'busy') io.err(`restartd watch: another run still holds ${run.lockPath}; this switch was not applied\n`);
    else if (run.kind === 'done') io.out(`${summaryLine(run.report.outcomes, run.report.managerSteps)}\n${run.rolledBack === undefined ? '' : `${rollbackLine(run.rolledBack)}\n`}${run.held === undefined ? '' : `${heldText(run.held)}\n`}`);
  });
  events.on('watch:failed', (old, next, error) => io.err(`restartd watch: ${old} -> ${next} failed: ${message(error)}\n`));
  events.on('watch:error', (error) => io.err(`restartd watch: ${message(error)}\n`));
  const { signal, ...request } = args;
  await watchRun(request, events, signal);
  return 0;
}
