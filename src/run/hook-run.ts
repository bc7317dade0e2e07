import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'eventemitter3';
import { RestartdError } from '../errors.js';
import { hasPending, readPending, recordPending, type PendingSwitch } from '../hook/pending-switch.js';
import type { LockHolder } from '../journal/state-lock.js';
import { DEFAULT_STATE_DIR } from '../journal/state-dir.js';
import { EXIT, type ExitCode } from '../types/exit-codes.js';
import { forwardedArgv } from '../types/flags.js';
import { applyExitCode } from './apply-exit.js';
import type { DrainedSwitch } from './drain-pending.js';
import { asExecuteEvents, type RunEvents } from './events.js';
import { awareStateDirOf, type RunRequest } from './request.js';
import { hookRollbackOption } from './rollback-option.js';
import { resolveConfig } from './switch-run.js';
import { publishRun } from './run-channel.js';

export const DEFAULT_HOOK_MAX_WAIT_MS = 30_000;
const HOOK_LOG = 'hook.log';

/** What a package manager's hook asks: the switch (if any) and how long the package manager may be held. */
export interface HookRequest extends RunRequest {
  /** Record the switch, restart nothing (RESTARTD_SUSPEND=1, NEEDRESTART_SUSPEND). */
  suspend?: boolean | undefined;
  /** Carry the pending switches out in this process, however long it takes. */
  foreground?: boolean | undefined;
  /** Otherwise: a detached child carries them out, and the caller is held at most this long (default 30 s). */
  maxWaitMs?: number | undefined;
  /** The detached child's environment (default this process's, less the switch it must not record again). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * How a hook call ended. A hook never fails a package manager for an expected outcome: every kind
 * but a failed drain exits 0 (`exitCode`, as the CLI's).
 */
export type HookResult =
  | { kind: 'suspended'; exitCode: typeof EXIT.OK; pending: PendingSwitch | undefined; stateDir: string }
  | { kind: 'idle'; exitCode: typeof EXIT.OK }
  | { kind: 'deferred'; exitCode: typeof EXIT.OK; window: string; nextWindowStart: string }
  | { kind: 'queued'; exitCode: typeof EXIT.OK; holder: LockHolder | undefined }
  | { kind: 'done'; exitCode: ExitCode; switches: DrainedSwitch[] }
  | { kind: 'detached'; exitCode: typeof EXIT.OK; pid: number | undefined; log: string; waitedMs: number }
  | { kind: 'carried-out'; exitCode: number; log: string; output: string };

/**
 * The package manager's entry: records the switch (folding repeated calls of one transaction into
 * one pending switch: the earliest old, the latest new), then carries the pending switches out
 * under the state lock, in a detached child the caller waits for at most `maxWaitMs` (or here,
 * with `foreground`). Outside the maintenance window the switch stays pending. Never prompts.
 */
export async function runHook(request: HookRequest, events: EventEmitter<RunEvents> = new EventEmitter<RunEvents>()): Promise<HookResult> {
  const stateDir = request.stateDir ?? DEFAULT_STATE_DIR;
  if ((request.old === undefined) !== (request.new === undefined)) {
    throw new RestartdError('USAGE', `hook needs both the old and the new generation (--old/--new or RESTARTD_OLD/RESTARTD_NEW), got only ${request.old === undefined ? 'the new' : 'the old'} one`);
  }
  if (request.old !== undefined && request.new !== undefined) {
    const pending = recordPending(stateDir, {
      old: request.old,
      new: request.new,
      ...(request.source === undefined ? {} : { source: request.source }),
      ...(request.storeDir === undefined ? {} : { storeDir: request.storeDir }),
    });
    if (request.suspend === true) return { kind: 'suspended', exitCode: EXIT.OK, pending, stateDir };
  } else if (request.suspend === true) {
    return { kind: 'suspended', exitCode: EXIT.OK, pending: undefined, stateDir };
  }
  if (!hasPending(stateDir)) return { kind: 'idle', exitCode: EXIT.OK };
  const config = await resolveConfig(request.config);
  // Outside the maintenance window the switch stays pending; a later hook (a timer) carries it out.
  const { windowVerdict } = await import('../fleet/window-gate.js');
  const verdict = windowVerdict(config.fleet);
  if (!verdict.open) {
    const pending = readPending(stateDir);
    if (pending !== undefined) {
      const { recordDeferred } = await import('../fleet/fleet-state.js');
      recordDeferred(stateDir, { old: pending.old, new: pending.new, command: 'hook' }, verdict);
    }
    return { kind: 'deferred', exitCode: EXIT.OK, window: verdict.window, nextWindowStart: verdict.nextStart.toISOString() };
  }
  return request.foreground === true ? drainHere({ ...request, config, stateDir }, events) : drainDetached({ ...request, stateDir });
}

async function drainHere(request: HookRequest & { stateDir: string }, runEvents: EventEmitter<RunEvents>): Promise<HookResult> {
  const events = asExecuteEvents(runEvents);
  const config = await resolveConfig(request.config);
  const [{ drainPending }, { openFleetSession }, { clearAllDeferred }] = await Promise.all([
    import('./drain-pending.js'),
    import('./fleet-session.js'),
    import('../fleet/fleet-state.js'),
  ]);
  publishRun({ events, stateDir: request.stateDir });
  const fleet = await openFleetSession(request.fleet, config, events, request.stateDir);
  let drained;
  try {
    const rollback = hookRollbackOption(request, config, (message) => events.emit('warning', message));
    drained = await drainPending(request.stateDir, { config, busAddress: request.busAddress, procRoot: request.procRoot, awareDirs: request.awareDirs, awareStateDir: awareStateDirOf(request), fleet: fleet.gate, rollback }, events, runEvents);
  } finally {
    await fleet.close();
  }
  if (drained.kind === 'queued') return { kind: 'queued', exitCode: EXIT.OK, holder: drained.holder };
  if (drained.switches.length > 0 && !hasPending(request.stateDir)) clearAllDeferred(request.stateDir);
  const codes = drained.switches.map(({ result }) => applyExitCode(result.report, result.rolledBack, result.held));
  const exitCode = codes.includes(EXIT.FAILED) ? EXIT.FAILED : codes.includes(EXIT.ROLLED_BACK) ? EXIT.ROLLED_BACK : EXIT.OK;
  return { kind: 'done', exitCode, switches: drained.switches };
}

/**
 * The CLI entry the detached child runs: in the bundle (dist/cli/restartd.js and its chunks, all the
 * Debian package ships) the bundle's entry beside this chunk; else dist/cli/main.js (also when this
 * module runs from src/, in tests).
 */
function cliEntry(): string {
  const candidates = ['./restartd.js', '../cli/main.js', '../../dist/cli/main.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? (candidates.at(-1) as string);
}

/** Runs `hook --foreground` in its own session, output appended to STATE/hook.log; waits at most maxWaitMs. */
async function drainDetached(request: HookRequest & { stateDir: string }): Promise<HookResult> {
  if (typeof request.config === 'object') throw new RestartdError('USAGE', 'hook: a detached run reads its config from a path: pass config as a path, or foreground: true');
  const { ensureStateDir } = await import('../journal/state-dir.js');
  ensureStateDir(request.stateDir);
  const log = join(request.stateDir, HOOK_LOG);
  const fd = openSync(log, 'a', 0o644);
  const offset = statSync(log).size;
  // The switch is recorded: the child only drains, and must not record it again.
  const { old: _old, new: _new, source: _source, storeDir: _storeDir, ...rest } = request;
  const argv = ['hook', '--foreground', ...forwardedArgv({ ...rest, stateDir: request.stateDir })];
  const { RESTARTD_OLD: _o, RESTARTD_NEW: _n, RESTARTD_SUSPEND: _s, NEEDRESTART_SUSPEND: _ns, ...childEnv } = request.env ?? process.env;
  const child = spawn(process.execPath, [cliEntry(), ...argv], { detached: true, stdio: ['ignore', fd, fd], env: childEnv });
  closeSync(fd);
  const maxWaitMs = request.maxWaitMs ?? DEFAULT_HOOK_MAX_WAIT_MS;
  const code = await new Promise<number | 'running'>((resolve) => {
    const timer = setTimeout(() => resolve('running'), maxWaitMs);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode ?? EXIT.FAILED);
    });
  });
  child.unref();
  if (code === 'running') return { kind: 'detached', exitCode: EXIT.OK, pid: child.pid, log, waitedMs: maxWaitMs };
  return { kind: 'carried-out', exitCode: code, log, output: readFrom(log, offset) };
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
