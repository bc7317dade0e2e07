import { execFile } from 'node:child_process';
import { EventEmitter } from 'eventemitter3';
import { diffGenerations } from '../generation/index.js';
import { flipLink, linkTarget, pointsAt } from '../generation/flip-link.js';
import { executePlan, type SkipDone } from '../execute/execute-plan.js';
import { verifyOutcomes, type VerifyOptions } from '../execute/verify.js';
import type { ManifestLimits } from '../generation/load-generation.js';
import { RestartdError } from '../errors.js';
import { isAlreadyDone, type ExecuteEvents, type ExecutionReport, type Outcome } from '../types/outcome.js';
import type { Plan, PlannedAction } from '../types/plan.js';
import type { RollbackIntent, RolledBack, UserUnitRef } from '../types/rollback.js';
import type { SourceKind } from '../types/generation.js';
import type { SystemdManager, UserManagers } from '../types/systemd.js';
import { ONTO_NEW, sortUserUnits } from './rollback-armed.js';

export type { RollbackIntent, RolledBack };

/**
 * The outcome codes that make a run roll back: a job that failed or timed out, a call systemd
 * refused, a unit that died after its restart. Never a skip, a process left running, or a unit
 * verify found still stale (its ExecStart points elsewhere: rolling back would not help it).
 */
const TRIGGERS: ReadonlySet<string> = new Set(['JOB_FAILED', 'JOB_TIMEOUT', 'SYSTEMD', 'UNIT_FAILED']);

/** Crash safety of a rollback (src/run/journaled-switch.ts): each step is on disk before the next. */
export interface RollbackJournal {
  /** Before the link is flipped: what is rolled back, and the switch's outcomes that caused it. */
  begun(intent: RollbackIntent, outcomes: readonly Outcome[]): void;
  flipped(intent: RollbackIntent): void;
  /** The restarts onto the old generation, journaled like a switch's (an interrupted one is not run twice). */
  restarts: { begin(plan: Plan): Plan; skipDone: SkipDone };
  finished(result: RolledBack): void;
}

/** What a rollback needs of its switch run. */
export interface RollbackContext {
  manager: SystemdManager;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  concurrency: number;
  jobTimeoutMs: number;
  /** How long rollback.command may take. */
  commandTimeoutMs: number;
  /** How long a restarted unit must stay up (UNIT_FAILED otherwise). */
  settleMs: number;
  /** How the switch's detection judged files (procRoot, scratch dirs, limits): the verify re-scan judges them the same. */
  scan: Pick<VerifyOptions, 'procRoot' | 'scratchDirs' | 'compareMaxBytes' | 'maxHeldFiles'>;
  /** The config's bounds on a manifest generation. */
  manifestLimits: ManifestLimits;
  /** The switch's plan ran a daemon-reload: the old unit files need one too. */
  daemonReload: boolean;
  /** The same for users' managers (the switch's plan reloaded them). */
  userDaemonReloads?: number[] | undefined;
  /** Users' own managers, for the user units restarted onto the old generation. */
  userManagers?: UserManagers | undefined;
  journal?: RollbackJournal | undefined;
}

/** The outcomes of a run that call for a rollback (see TRIGGERS). */
export function rollbackFailures(outcomes: readonly Outcome[]): Outcome[] {
  return outcomes.filter((o) => !o.ok && o.dryRun !== true && ONTO_NEW.has(o.action) && o.code !== undefined && TRIGGERS.has(o.code));
}

/**
 * Every system unit this run put onto the new generation, once each: the ones that came up fine
 * (so the service set is coherent again) and the ones that failed. Units verify found still
 * stale run old files already, and are left alone.
 */
export function unitsOntoNew(outcomes: readonly Outcome[]): string[] {
  return [...new Set(outcomes.filter((o) => o.owner.kind === 'system-unit' && cameOntoNew(o)).map((o) => o.unit))].sort();
}

/** The same for users' own units: each with its user's uid (restarted onto the old generation through that user's manager). */
export function userUnitsOntoNew(outcomes: readonly Outcome[]): UserUnitRef[] {
  const units = new Map<string, UserUnitRef>();
  for (const o of outcomes) {
    const uid = o.owner.uid;
    if (o.owner.kind === 'user-unit' && uid !== undefined && cameOntoNew(o)) units.set(`${uid}/${o.unit}`, { uid, unit: o.unit });
  }
  return sortUserUnits([...units.values()]);
}

/** A unit job of this run that put its unit onto the new generation (came up fine, or failed in a way that calls for a rollback). */
function cameOntoNew(o: Outcome): boolean {
  if (!ONTO_NEW.has(o.action) || o.phase === 'stop' || o.dryRun === true) return false;
  return o.ok ? o.jobResult === 'done' || isAlreadyDone(o) : o.code !== undefined && TRIGGERS.has(o.code);
}

/** How a run goes back: a link to flip, or the config's command for generations only the system's tool switches. */
export type RollbackHow = { link: string; command?: undefined } | { command: string[]; link?: undefined };

/** What to roll back after a switch's outcomes, or undefined when nothing calls for it. */
export function rollbackIntent(outcomes: readonly Outcome[], how: RollbackHow, from: string, to: string): RollbackIntent | undefined {
  const failures = rollbackFailures(outcomes);
  if (failures.length === 0) return undefined;
  const reason = failures.map((o) => `${o.unit} ${o.code ?? 'failed'}: ${o.cause ?? 'failed'}`).join('; ');
  const userUnits = userUnitsOntoNew(outcomes);
  return { ...(how.link === undefined ? { command: how.command } : { link: how.link }), from, to, reason, units: unitsOntoNew(outcomes), ...(userUnits.length === 0 ? {} : { userUnits }) };
}

/**
 * Rolls back: journal → flip the link back to the old generation (atomically) → journal →
 * restart every unit of the intent onto it → verify by re-scanning that none holds the new
 * generation's files. `flipped`: an interrupted rollback already flipped the link. Never throws
 * for a failure of its own: the result says ROLLBACK_FAILED with both causes, and nothing further
 * is tried.
 */
export async function carryOutRollback(
  intent: RollbackIntent,
  switchOutcomes: readonly Outcome[],
  ctx: RollbackContext,
  events: EventEmitter<ExecuteEvents>,
  resume: { begun: boolean; flipped: boolean } = { begun: false, flipped: false },
): Promise<RolledBack> {
  if (!resume.begun) ctx.journal?.begun(intent, switchOutcomes);
  events.emit('rollback:begun', intent);
  let outcomes: Outcome[] = [];
  try {
    if (!resume.flipped) {
      if (intent.command === undefined) flipBack(intent);
      else await runRollbackCommand(intent, intent.command, ctx.commandTimeoutMs);
      ctx.journal?.flipped(intent);
    }
    events.emit('rollback:flipped', intent.link ?? (intent.command ?? []).join(' '), intent.to, intent);
    const userReloads = ctx.userDaemonReloads ?? [];
    const built: Plan = {
      daemonReload: ctx.daemonReload,
      ...(userReloads.length === 0 ? {} : { userDaemonReloads: userReloads }),
      actions: [...intent.units.map(restartOntoOld), ...(intent.userUnits ?? []).map(restartUserUnitOntoOld)],
    };
    const plan = ctx.journal?.restarts.begin(built) ?? built;
    const executed: ExecutionReport = await executePlan(
      plan,
      ctx.manager,
      {
        dryRun: false,
        concurrency: ctx.concurrency,
        jobTimeoutMs: ctx.jobTimeoutMs,
        settleMs: ctx.settleMs,
        skipDone: ctx.journal?.restarts.skipDone,
        ...(ctx.userManagers === undefined ? {} : { userManagers: ctx.userManagers }),
      },
      events,
    );
    const changeSet = await diffGenerations(intent.from, intent.to, {
      ...(ctx.source === undefined ? {} : { source: ctx.source }),
      ...(ctx.storeDir === undefined ? {} : { storeDir: ctx.storeDir }),
      manifestLimits: ctx.manifestLimits,
    });
    outcomes = await verifyOutcomes(executed.outcomes, { changeSet, manager: ctx.manager.process, ...ctx.scan }, events);
    const failed = [...outcomes.filter((o) => !o.ok).map((o) => `${o.unit} ${o.code ?? 'failed'}: ${o.cause ?? 'failed'}`), ...executed.managerSteps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.cause ?? 'failed'}`)];
    return finish(intent, outcomes, failed.length === 0 ? undefined : failed.join('; '), ctx, events);
  } catch (error) {
    return finish(intent, outcomes, error instanceof Error ? error.message : String(error), ctx, events);
  }
}

function finish(intent: RollbackIntent, outcomes: Outcome[], failure: string | undefined, ctx: RollbackContext, events: EventEmitter<ExecuteEvents>): RolledBack {
  const result: RolledBack =
    failure === undefined
      ? { ...intent, ok: true, outcomes }
      : { ...intent, ok: false, code: 'ROLLBACK_FAILED', cause: `the switch failed (${intent.reason}); rolling back failed too (${failure})`, outcomes };
  ctx.journal?.finished(result);
  events.emit('rollback:done', result);
  return result;
}

/**
 * The link goes back to the old generation only from the new one: a link already on the old one
 * (an interrupted rollback) stays; one that points anywhere else was switched again by someone
 * else and is left alone.
 */
function flipBack(intent: RollbackIntent): void {
  const link = intent.link;
  if (link === undefined) throw new RestartdError('INTERNAL', 'a rollback without a link or a command');
  if (linkTarget(intent.to) === undefined) throw new RestartdError('ROLLBACK_FAILED', `the old generation ${intent.to} is gone: ${link} not flipped`);
  if (pointsAt(link, intent.to)) return;
  if (!pointsAt(link, intent.from)) {
    throw new RestartdError('ROLLBACK_FAILED', `${link} points at ${linkTarget(link) ?? 'nothing'}, not at ${intent.from}: switched again since, not flipped`);
  }
  flipLink(link, intent.to);
}

/** The config's rollback.command: no shell, RESTARTD_OLD/RESTARTD_NEW set, bounded in time; anything but exit 0 fails the rollback. */
function runRollbackCommand(intent: RollbackIntent, argv: readonly string[], timeoutMs: number): Promise<void> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new RestartdError('ROLLBACK_FAILED', 'rollback.command is empty'));
  const env = { ...process.env, RESTARTD_OLD: intent.to, RESTARTD_NEW: intent.from };
  return new Promise((resolve, reject) => {
    execFile(program, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      const why = error.killed ? `did not finish within ${timeoutMs / 1000} s` : `failed (${error.code ?? error.message})`;
      reject(new RestartdError('ROLLBACK_FAILED', `rollback.command ${argv.join(' ')} ${why}${tail === '' ? '' : `: ${tail}`}`));
    });
  });
}

function restartOntoOld(unit: string): PlannedAction {
  return { owner: { kind: 'system-unit', name: unit }, action: 'restart', reason: 'rollback', pids: [], phase: 'restart', unit };
}

function restartUserUnitOntoOld({ uid, unit }: UserUnitRef): PlannedAction {
  return { owner: { kind: 'user-unit', name: unit, uid }, action: 'restart', reason: 'rollback', pids: [], phase: 'restart', unit, userManager: { uid } };
}
