import { EventEmitter } from 'eventemitter3';
import { summaryLine } from '../report/outcome-text.js';
import { heldText, rollbackLine } from '../report/rollback-text.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import type { SourceKind } from '../types/generation.js';
import { readHookEnv } from '../hook/hook-env.js';
import type { RunEvents } from '../run/events.js';
import { runHook as runHookSwitch, type HookResult } from '../run/hook-run.js';
import { EXIT } from '../types/exit-codes.js';
import { printableIO, type CliIO } from './io.js';
import { renderRunEvents } from './render-events.js';

/** `restartd hook`'s exit codes: 0 done, queued, suspended, deferred or detached; 3 bad input; 5 some action failed; 8 a switch was rolled back. */
export const HOOK_EXIT = { OK: EXIT.OK, ERROR: EXIT.ERROR, FAILED: EXIT.FAILED, ROLLED_BACK: EXIT.ROLLED_BACK } as const;

export interface HookCommandArgs {
  old?: string | undefined;
  new?: string | undefined;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  bus?: string | undefined;
  config?: string | undefined;
  procRoot?: string | undefined;
  stateDir: string;
  awareDirs?: string[] | undefined;
  maxWaitSeconds?: number | undefined;
  foreground: boolean;
  fleet?: FleetArgs | undefined;
  /** The link that points at NEW (else RESTARTD_LINK); with `rollback`, flipped back when a restart fails. */
  link?: string | undefined;
  rollback?: boolean | undefined;
}

/**
 * `restartd hook [--old A --new B]`: the library's hook run (src/run/hook-run.ts) with the switch
 * from the flags, else RESTARTD_OLD/RESTARTD_NEW; its events and result as lines. Never prompts.
 */
export async function runHook(args: HookCommandArgs, rawIO: CliIO, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const io = printableIO(rawIO);
  const fromEnv = readHookEnv(env);
  const events = new EventEmitter<RunEvents>();
  renderRunEvents(events, io);
  events.on('switch:start', (p) => io.out(`restartd hook: ${p.old} -> ${p.new} (${p.invocations} invocation${p.invocations === 1 ? '' : 's'} since ${p.since})\n`));
  events.on('switch:finished-before', (p, at) => io.out(`restartd hook: ${p.old} -> ${p.new} was carried out at ${at}: nothing to do\n`));
  events.on('switch:done', ({ result }) => {
    io.out(`${summaryLine(result.report.outcomes, result.report.managerSteps)}\n`);
    if (result.rolledBack !== undefined) io.out(`${rollbackLine(result.rolledBack)}\n`);
    if (result.held !== undefined) io.out(`${heldText(result.held)}\n`);
  });
  const result = await runHookSwitch(
    {
      old: args.old ?? fromEnv.request.old,
      new: args.new ?? fromEnv.request.new,
      source: args.source ?? fromEnv.request.source,
      storeDir: args.storeDir,
      busAddress: args.bus,
      config: args.config,
      procRoot: args.procRoot,
      stateDir: args.stateDir,
      awareDirs: args.awareDirs,
      fleet: args.fleet,
      link: args.link ?? fromEnv.link,
      rollback: args.rollback,
      suspend: fromEnv.suspended,
      foreground: args.foreground,
      maxWaitMs: args.maxWaitSeconds === undefined ? undefined : args.maxWaitSeconds * 1000,
      env,
      command: 'hook',
    },
    events,
  );
  io.out(hookResultText(result));
  return result.exitCode;
}

/** What `hook` prints of its result (the drained switches' lines came as events). */
export function hookResultText(result: HookResult): string {
  switch (result.kind) {
    case 'suspended':
      return result.pending === undefined
        ? 'restartd hook: suspended (RESTARTD_SUSPEND): nothing done\n'
        : `restartd hook: suspended (RESTARTD_SUSPEND): ${result.pending.old} -> ${result.pending.new} recorded in ${result.stateDir}, nothing restarted; run \`restartd hook\` to carry it out\n`;
    case 'idle':
      return 'restartd hook: nothing pending\n';
    case 'deferred':
      return `restartd hook: outside the maintenance window (${result.window}): nothing restarted; pending until it opens at ${result.nextWindowStart}\n`;
    case 'queued': {
      const who = result.holder === undefined ? 'another restartd run' : `restartd ${result.holder.command} (pid ${result.holder.pid})`;
      return `restartd hook: ${who} holds the lock; the switch is queued and it carries it out next\n`;
    }
    case 'done':
      return '';
    case 'detached':
      return `restartd hook: still working after ${result.waitedMs / 1000} s: continuing in the background (pid ${result.pid}), output in ${result.log}\n`;
    case 'carried-out':
      return result.output;
  }
}
