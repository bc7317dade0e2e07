import { EventEmitter } from 'eventemitter3';
import { summaryLine } from '../report/outcome-text.js';
import { heldText, rollbackArmedLine, rollbackLine } from '../report/rollback-text.js';
import { jsonText, printable } from '../report/printable.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import type { SourceKind } from '../types/generation.js';
import { applyReport } from '../report/apply-json.js';
import type { RunEvents } from '../run/events.js';
import { runSwitch, type ApplyResult } from '../run/switch-run.js';
import { EXIT } from '../types/exit-codes.js';
import type { CliIO } from './io.js';
import { renderRunEvents } from './render-events.js';

export { applyExitCode } from '../run/apply-exit.js';

/** `restartd apply`'s exit codes: the one table's (src/types/exit-codes.ts). */
export const APPLY_EXIT = { OK: EXIT.OK, REBOOT: EXIT.REBOOT, ERROR: EXIT.ERROR, NOTHING_TO_DO: EXIT.NOTHING_TO_DO, FAILED: EXIT.FAILED, BUSY: EXIT.BUSY, DEFERRED: EXIT.DEFERRED, ROLLED_BACK: EXIT.ROLLED_BACK } as const;

export interface ApplyCommandArgs {
  /** Both absent: the live scan. */
  old?: string | undefined;
  new?: string | undefined;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  dryRun: boolean;
  json: boolean;
  bus?: string | undefined;
  config?: string | undefined;
  procRoot?: string | undefined;
  concurrency?: number | undefined;
  jobTimeoutMs?: number | undefined;
  /** Journal and lock there (the CLI defaults it to /var/lib/restartd); unset: no journal. */
  stateDir?: string | undefined;
  waitSeconds?: number | undefined;
  retry?: boolean | undefined;
  awareDirs?: string[] | undefined;
  awareStateDir?: string | undefined;
  fleet?: FleetArgs | undefined;
  /** The link that points at NEW; with `rollback`, flipped back to OLD when a restart fails. */
  link?: string | undefined;
  rollback?: boolean | undefined;
}

/**
 * `restartd apply`: the library's switch run (src/run/switch-run.ts), its events as lines (or one
 * JSON object with --json), its result's exit code. --dry-run prints "would …" from the same plan.
 */
export async function runApply(args: ApplyCommandArgs, io: CliIO): Promise<number> {
  const events = new EventEmitter<RunEvents>();
  renderRunEvents(events, io, { json: args.json, steps: true, dryRun: args.dryRun });
  const result = await runSwitch(
    {
      old: args.old,
      new: args.new,
      source: args.source,
      storeDir: args.storeDir,
      config: args.config,
      busAddress: args.bus,
      stateDir: args.stateDir,
      awareDirs: args.awareDirs,
      awareStateDir: args.awareStateDir,
      procRoot: args.procRoot,
      dryRun: args.dryRun,
      retry: args.retry,
      waitMs: (args.waitSeconds ?? 0) * 1000,
      fleet: args.fleet,
      concurrency: args.concurrency,
      jobTimeoutMs: args.jobTimeoutMs,
      link: args.link,
      rollback: args.rollback,
      command: 'apply',
    },
    events,
  );
  renderApplyResult(result, args, io);
  return result.exitCode;
}

/** What `apply` prints of its result (its lines came as events). */
export function renderApplyResult(result: ApplyResult, args: Pick<ApplyCommandArgs, 'json' | 'dryRun' | 'stateDir'>, io: CliIO): void {
  switch (result.kind) {
    case 'busy': {
      const who = result.holder === undefined ? 'another restartd run' : `restartd ${result.holder.command} (pid ${result.holder.pid}, since ${result.holder.since})`;
      io.err(`restartd: ${who} holds ${result.lockPath}: nothing done; run again later, or wait with --wait SECONDS\n`);
      return;
    }
    case 'deferred': {
      if (args.json) {
        io.out(jsonText({ dryRun: false, exitCode: result.exitCode, deferred: { window: result.window, nextWindowStart: result.nextWindowStart }, actions: [], outcomes: [] }));
        return;
      }
      const recorded = result.pending ? `; the switch is recorded as pending in ${args.stateDir} (\`restartd hook\` carries it out in the window)` : '';
      io.out(`restartd: outside the maintenance window (${result.window}): nothing restarted; the window opens next at ${result.nextWindowStart}${recorded}\n`);
      return;
    }
    case 'done':
      if (args.json) io.out(jsonText(applyReport(result.plan, result.report, result.dryRun, result.exitCode, result.warnings, { rolledBack: result.rolledBack, rollback: result.rollback, held: result.held })));
      else {
        const armed = result.rollback === undefined ? '' : `${printable(rollbackArmedLine(result.rollback))}\n`;
        const rolled = result.rolledBack === undefined ? '' : `${printable(rollbackLine(result.rolledBack))}\n`;
        const held = result.held === undefined ? '' : `${printable(heldText(result.held))}\n`;
        io.out(`${result.dryRun ? 'dry run: ' : ''}${summaryLine(result.report.outcomes, result.report.managerSteps)}\n${armed}${rolled}${held}`);
      }
  }
}
