import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'eventemitter3';
import { loadConfig } from '../config/index.js';
import { doneLine, summaryLine } from '../execute/outcome-text.js';
import type { ExecuteEvents } from '../execute/types.js';
import { drainPending, type DrainEvents } from '../hook/drain-pending.js';
import { readHookEnv } from '../hook/hook-env.js';
import { hasPending, readPending, recordPending } from '../hook/pending-switch.js';
import { clearAllDeferred, recordDeferred } from '../fleet/fleet-state.js';
import { RestartdError } from '../errors.js';
import { ensureStateDir } from '../journal/state-dir.js';
import { installTestPause } from '../journal/test-pause.js';
import { applyExitCode } from './apply-command.js';
import { printableIO, type CliIO } from './io.js';
import type { SwitchRunArgs } from './switch-run-args.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import { windowVerdict } from '../fleet/window-gate.js';
import { openFleetSession } from './fleet-cli.js';

/**
 * `restartd hook` exit codes: a package manager's hook must not fail its transaction for what it
 * cannot fix, so everything but bad input and failed actions is 0.
 * - 0: done, nothing pending, suspended (recorded), queued for the run holding the lock, or still
 *   working after --max-wait (continuing detached: its own session, output in STATE/hook.log);
 * - 3: bad input (one of old/new missing, bad generations, config);
 * - 5: some action failed (the others ran; see the output and `restartd status`).
 */
export const HOOK_EXIT = { OK: 0, ERROR: 3, FAILED: 5 } as const;
export const DEFAULT_HOOK_MAX_WAIT_SECONDS = 30;
const HOOK_LOG = 'hook.log';
const ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

export interface HookCommandArgs extends SwitchRunArgs {
  old?: string | undefined;
  new?: string | undefined;
  /** --max-wait SECONDS: how long the package manager is held (default 30). */
  maxWaitSeconds?: number | undefined;
  /** --foreground: carry the pending switches out in this process, however long it takes. */
  foreground: boolean;
  /** --fleet URL[,URL…] and the other --fleet-* flags (issue 7). */
  fleet?: FleetArgs | undefined;
}

/**
 * `restartd hook [--old A --new B]`: records the switch (flags, else RESTARTD_OLD/RESTARTD_NEW) as
 * pending, folding repeated invocations into one; then carries the pending switches out under the
 * state lock in a detached child, waiting for it at most --max-wait. Never prompts.
 */
export async function runHook(args: HookCommandArgs, rawIO: CliIO, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const io = printableIO(rawIO);
  const fromEnv = readHookEnv(env);
  const old = args.old ?? fromEnv.request.old;
  const next = args.new ?? fromEnv.request.new;
  if ((old === undefined) !== (next === undefined)) {
    throw new RestartdError('USAGE', `hook needs both the old and the new generation (--old/--new or RESTARTD_OLD/RESTARTD_NEW), got only ${old === undefined ? 'the new' : 'the old'} one`);
  }
  if (old !== undefined && next !== undefined) {
    const source = args.source ?? fromEnv.request.source;
    const pending = recordPending(args.stateDir, { old, new: next, ...(source === undefined ? {} : { source }), ...(args.storeDir === undefined ? {} : { storeDir: args.storeDir }) });
    if (fromEnv.suspended) {
      io.out(`restartd hook: suspended (RESTARTD_SUSPEND): ${pending.old} -> ${pending.new} recorded in ${args.stateDir}, nothing restarted; run \`restartd hook\` to carry it out\n`);
      return HOOK_EXIT.OK;
    }
  } else if (fromEnv.suspended) {
    io.out('restartd hook: suspended (RESTARTD_SUSPEND): nothing done\n');
    return HOOK_EXIT.OK;
  }
  if (!hasPending(args.stateDir)) {
    io.out('restartd hook: nothing pending\n');
    return HOOK_EXIT.OK;
  }
  // fleet (issue 7): outside the maintenance window the switch stays pending; a later hook (a timer) carries it out.
  const verdict = windowVerdict((await loadConfig(args.config)).fleet);
  if (!verdict.open) {
    const pending = readPending(args.stateDir);
    if (pending !== undefined) {
      recordDeferred(args.stateDir, { old: pending.old, new: pending.new, command: 'hook' }, verdict);
    }
    io.out(`restartd hook: outside the maintenance window (${verdict.window}): nothing restarted; pending until it opens at ${verdict.nextStart.toISOString()}\n`);
    return HOOK_EXIT.OK;
  }
  return args.foreground ? drainHere(args, io, env) : drainDetached(args, io, env);
}

async function drainHere(args: HookCommandArgs, io: CliIO, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const config = await loadConfig(args.config);
  const events = new EventEmitter<ExecuteEvents>();
  // The crash tests' hook (src/journal/test-pause.ts); inert unless the variable is set.
  installTestPause(events, env.RESTARTD_TEST_PAUSE_AFTER, args.stateDir);
  const drainEvents = new EventEmitter<DrainEvents>();
  events.on('warning', (message) => io.err(`restartd: warning: ${message}\n`));
  events.on('action:done', (outcome) => io.out(`${doneLine(outcome)}\n`));
  drainEvents.on('switch:start', (p) => io.out(`restartd hook: ${p.old} -> ${p.new} (${p.invocations} invocation${p.invocations === 1 ? '' : 's'} since ${p.since})\n`));
  drainEvents.on('switch:finished-before', (p, at) => io.out(`restartd hook: ${p.old} -> ${p.new} was carried out at ${at}: nothing to do\n`));
  drainEvents.on('switch:done', ({ result }) => io.out(`${summaryLine(result.report.outcomes, result.report.managerSteps)}\n`));
  const fleet = await openFleetSession(args.fleet, config, events, io, { json: false, stateDir: args.stateDir });
  let drained;
  try {
    drained = await drainPending(args.stateDir, { config, busAddress: args.bus, procRoot: args.procRoot, fleet: fleet.gate }, events, drainEvents);
  } finally {
    await fleet.close();
  }
  if (drained.kind === 'drained' && drained.switches.length > 0 && !hasPending(args.stateDir)) clearAllDeferred(args.stateDir);
  if (drained.kind === 'queued') {
    const who = drained.holder === undefined ? 'another restartd run' : `restartd ${drained.holder.command} (pid ${drained.holder.pid})`;
    io.out(`restartd hook: ${who} holds the lock; the switch is queued and it carries it out next\n`);
    return HOOK_EXIT.OK;
  }
  return drained.switches.some(({ result }) => applyExitCode(result.report) === 5) ? HOOK_EXIT.FAILED : HOOK_EXIT.OK;
}

/** Runs `hook --foreground` in its own session, output appended to STATE/hook.log; waits at most --max-wait. */
async function drainDetached(args: HookCommandArgs, io: CliIO, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  ensureStateDir(args.stateDir);
  const log = join(args.stateDir, HOOK_LOG);
  const fd = openSync(log, 'a', 0o644);
  const offset = statSync(log).size;
  const flags = ['hook', '--foreground', '--state-dir', args.stateDir];
  const fleet = args.fleet ?? {};
  for (const [flag, value] of [['--bus', args.bus], ['--config', args.config], ['--proc-root', args.procRoot],
    ['--fleet', fleet.endpoints], ['--fleet-ca', fleet.ca], ['--fleet-cert', fleet.cert], ['--fleet-key', fleet.key], ['--fleet-user', fleet.user],
    ['--fleet-password-file', fleet.passwordFile], ['--fleet-slots', fleet.slots], ['--fleet-host', fleet.host]] as const) {
    if (value !== undefined) flags.push(flag, value);
  }
  if (fleet.optional === true) flags.push('--fleet-optional');
  // The switch is recorded: the child only drains, and must not record it again.
  const { RESTARTD_OLD: _o, RESTARTD_NEW: _n, RESTARTD_SUSPEND: _s, NEEDRESTART_SUSPEND: _ns, ...childEnv } = env;
  const child = spawn(process.execPath, [ENTRY, ...flags], { detached: true, stdio: ['ignore', fd, fd], env: childEnv });
  closeSync(fd);
  const maxWaitMs = (args.maxWaitSeconds ?? DEFAULT_HOOK_MAX_WAIT_SECONDS) * 1000;
  const code = await new Promise<number | 'running'>((resolve) => {
    const timer = setTimeout(() => resolve('running'), maxWaitMs);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode ?? HOOK_EXIT.FAILED);
    });
  });
  child.unref();
  if (code === 'running') {
    io.out(`restartd hook: still working after ${maxWaitMs / 1000} s: continuing in the background (pid ${child.pid}), output in ${log}\n`);
    return HOOK_EXIT.OK;
  }
  io.out(readFrom(log, offset));
  return code;
}

function readFrom(path: string, offset: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
