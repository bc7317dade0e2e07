import type { EventEmitter } from 'eventemitter3';
import { RestartdError } from '../errors.js';
import { unitJobOf, type UnitJob } from '../plan/unit-job.js';
import { unitKeyOf } from '../plan/unit-key.js';
import type { PlannedAction } from '../types/plan.js';
import type { SettleStart } from './settle.js';
import type { Job, JobMethod, JobResult, SystemdManager, UnitState } from '../types/systemd.js';
import { ALREADY_DONE, DONE_BY_INTERRUPTED_RUN, isAlreadyDone, planned, type ExecuteEvents, type ExecuteOptions, type JobSubmission, type NoJobResult, type Outcome, type OutcomeCode } from '../types/outcome.js';
import { decideResume } from './resume-job.js';

/** What the actions of one run share. */
export interface ActionContext {
  manager: SystemdManager;
  options: ExecuteOptions;
  events: EventEmitter<ExecuteEvents>;
  /** MainPID of a stop-start unit when it was stopped, for its start's outcome. */
  mainPidBefore: Map<string, number>;
  /** A unit whose (re)start or reload was done, and its state then: settleOutcome watches it. */
  settleFrom: Map<string, SettleStart>;
  /** Runs a unit job, holding a fleet slot of its group when the action needs one (else it just runs). */
  gated: (action: PlannedAction, job: () => Promise<Outcome>) => Promise<Outcome>;
}

type UnitMethodJob = Extract<UnitJob, { unit: string }>;

export { ALREADY_DONE, isAlreadyDone, planned };

export function failure(action: PlannedAction, code: OutcomeCode, cause: string, extra: Partial<Outcome> = {}): Outcome {
  return { ...planned(action), ok: false, jobResult: 'not-run', durationMs: 0, ...extra, code, cause };
}

/** An error from the bus or a job wait, as an outcome's code and cause. */
export function describeError(error: unknown): { code: OutcomeCode; cause: string } {
  if (error instanceof RestartdError && (error.code === 'JOB_TIMEOUT' || error.code === 'BUS' || error.code === 'SYSTEMD')) {
    return { code: error.code, cause: error.message };
  }
  return { code: 'BUS', cause: error instanceof Error ? error.message : String(error) };
}

/**
 * Carries out one unit action: the job `unitJobOf` names, with ResetFailedUnit first for starts and
 * restarts (so a start-limit trip doesn't block them) and the action's sockets around it: stopped
 * before the service, started before it, restarted after it (a restart with sockets is then
 * stop, restart the sockets, start). Never throws: a failure is an outcome.
 */
export async function runUnitAction(action: PlannedAction, ctx: ActionContext): Promise<Outcome> {
  const job = unitJobOf(action);
  if (job === undefined || job.method === 'Reexecute') {
    return failure(action, 'SYSTEMD', `no unit job for a ${action.action} action in phase ${action.phase}`);
  }
  if (ctx.options.dryRun) {
    return { ...planned(action), ok: true, jobResult: 'not-run', durationMs: 0, dryRun: true, ...(job.sockets.length > 0 ? { sockets: job.sockets.map((unit) => ({ unit, jobResult: 'not-run' as const })) } : {}) };
  }
  if (job.manager.kind === 'user') {
    // A user unit's job runs on that user's manager alone, reached as that user.
    const reached = await ctx.options.userManagers?.get(job.manager.uid);
    if (reached?.state !== 'running') {
      return failure(action, 'USER_MANAGER_UNAVAILABLE', reached?.reason ?? `${job.unit} belongs to the user manager of uid ${job.manager.uid}, which this run cannot reach`);
    }
    return runJobs(action, job, { ...ctx, manager: reached.manager });
  }
  return runJobs(action, job, ctx);
}

async function runJobs(action: PlannedAction, job: UnitMethodJob, ctx: ActionContext): Promise<Outcome> {
  const pidKey = unitKeyOf(action.owner, job.unit);
  const started = performance.now();
  const queuedAtMs = Date.now();
  let before = 0;
  let submission: JobSubmission | undefined;
  try {
    const now = await ctx.manager.unitState(job.unit);
    before = ctx.mainPidBefore.get(pidKey) ?? now.mainPid;
    // journal: a job an interrupted run submitted is waited for or judged by the facts, never submitted twice.
    const earlier = ctx.options.jobJournal?.interrupted(action);
    const resumed = earlier === undefined ? undefined : await resumeInterrupted(action, earlier, now, ctx, started, DONE_BY_INTERRUPTED_RUN, pidKey);
    if (resumed !== undefined) return resumed;
    submission = {
      unit: job.unit,
      method: job.method,
      invocationId: now.invocationId,
      mainPid: now.mainPid,
      execMainStartUs: now.execMainStartUs,
      stateChangeUs: now.stateChangeUs,
      at: new Date(queuedAtMs).toISOString(),
    };
    ctx.options.jobJournal?.submitting(action, submission);
    ctx.events.emit('job:submitting', action, job.method);
    const submitted = submission;
    const onQueued = (queued: Job): void => {
      submission = { ...submitted, jobPath: queued.path };
      ctx.options.jobJournal?.submitted(action, { ...submitted, jobPath: queued.path });
      ctx.events.emit('job:submitted', action, queued);
    };
    const sockets: { unit: string; jobResult: JobResult | NoJobResult }[] = [];
    // A stop takes the sockets down first, so no connection re-activates the service meanwhile;
    // a start brings them up first; a restart restarts them after the service.
    if (job.method === 'StopUnit') {
      ctx.mainPidBefore.set(pidKey, before);
      sockets.push(...(await socketJobs(job, 'StopUnit', ctx)));
    }
    if (job.method === 'StartUnit') sockets.push(...(await socketJobs(job, 'StartUnit', ctx)));
    let method = job.method;
    if (method === 'RestartUnit' && job.sockets.length > 0) {
      // systemd refuses to start a socket whose service is running ("already active, refusing"):
      // the service stops, its sockets restart after it, then it starts again.
      await runJob('StopUnit', job.unit, ctx);
      sockets.push(...(await socketJobs(job, 'RestartUnit', ctx)));
      method = 'StartUnit';
    }
    if (method === 'RestartUnit' || method === 'StartUnit') await ctx.manager.resetFailed(job.unit);
    const result = await runJob(method, job.unit, ctx, onQueued);
    let after = 0;
    if (job.method !== 'StopUnit') {
      const state = await ctx.manager.unitState(job.unit);
      after = state.mainPid;
      if (result === 'done') ctx.settleFrom.set(pidKey, { state, queuedAtMs, manager: ctx.manager });
    }
    const outcome: Outcome = {
      ...planned(action),
      ok: result === 'done',
      jobResult: result,
      durationMs: since(started),
      mainPid: { before, after },
      ...(sockets.length > 0 ? { sockets } : {}),
    };
    if (result !== 'done') return { ...outcome, code: 'JOB_FAILED', cause: `${methodVerb(job.method)} job of ${job.unit} ended "${result}"` };
    const badSocket = sockets.find((s) => s.jobResult !== 'done');
    if (badSocket) return { ...outcome, ok: false, code: 'SOCKET_FAILED', cause: `${methodVerb(socketMethod(job.method))} job of ${badSocket.unit} ended "${badSocket.jobResult}"` };
    return outcome;
  } catch (error) {
    const { code, cause } = describeError(error);
    // The bus went away with a job submitted: what became of it is asked again on a fresh connection.
    if (code === 'BUS' && submission !== undefined) return recheckAfterBusLoss(action, submission, ctx, started, cause, pidKey);
    return failure(action, code, cause, { jobResult: code === 'JOB_TIMEOUT' ? 'unknown' : 'not-run', durationMs: since(started) });
  }
}

/**
 * A job submitted before the bus was lost: on a fresh connection (bounded retries, see reconnect)
 * it is waited for if still queued, done if the unit's facts say it ran; anything else is BUS_LOST,
 * not run again here (its submission stays in the journal: a later run decides from the facts).
 */
async function recheckAfterBusLoss(action: PlannedAction, submission: JobSubmission, ctx: ActionContext, started: number, lost: string, pidKey: string): Promise<Outcome> {
  const unknown = (why: string): Outcome =>
    failure(action, 'BUS_LOST', `the bus was lost during the ${methodVerb(submission.method)} job of ${submission.unit} (${lost}); ${why}: run again to finish the switch`, { jobResult: 'unknown', durationMs: since(started) });
  try {
    await ctx.manager.reconnect();
    const now = await ctx.manager.unitState(submission.unit);
    const rechecked = await resumeInterrupted(action, submission, now, ctx, started, BUS_LOST_RECHECKED, pidKey);
    return rechecked ?? unknown('on a fresh connection nothing shows it ran');
  } catch (error) {
    return unknown(`whether it ran is not known (${describeError(error).cause})`);
  }
}

async function runJob(method: JobMethod, unit: string, ctx: ActionContext, onQueued?: (job: Job) => void): Promise<JobResult> {
  const { manager } = ctx;
  const queue = { RestartUnit: manager.restart, ReloadUnit: manager.reload, StopUnit: manager.stop, StartUnit: manager.start }[method];
  const job = await queue.call(manager, unit);
  onQueued?.(job);
  ctx.events.emit('job:queued', job);
  return (await manager.waitForJob(job, ctx.options.jobTimeoutMs)).result;
}

/** The `detail` prefix of an outcome whose job was re-checked on a fresh connection after the bus was lost. */
const BUS_LOST_RECHECKED = 're-checked after the bus was lost';

/**
 * A job an interrupted run submitted (or was about to): still queued, it is waited for; else the
 * unit's facts since the record say whether it ran (see decideResume). Undefined: run it now.
 */
async function resumeInterrupted(action: PlannedAction, earlier: JobSubmission, now: UnitState, ctx: ActionContext, started: number, label: string, pidKey: string): Promise<Outcome | undefined> {
  let decision = decideResume(earlier, now);
  let result: JobResult = 'done';
  let state = now;
  if (decision.kind === 'wait') {
    const at = performance.now();
    const pending: Job = { path: decision.jobPath, unit: earlier.unit, method: earlier.method, queuedAt: at, repliedAt: at };
    ctx.events.emit('job:queued', pending);
    result = (await ctx.manager.waitForJob(pending, ctx.options.jobTimeoutMs)).result;
    state = await ctx.manager.unitState(earlier.unit);
    // The job waited for may have been a step of the action (a restart's stop): judge again.
    decision = result === 'done' ? decideResume(earlier, state) : decision;
  }
  if (decision.kind === 'run') return undefined;
  const outcome: Outcome = {
    ...planned(action),
    detail: decision.kind === 'done' ? `${label}: ${decision.why}` : `${label}: waited for its job`,
    ok: result === 'done',
    jobResult: result,
    durationMs: since(started),
    mainPid: { before: earlier.mainPid, after: earlier.method === 'StopUnit' ? 0 : state.mainPid },
  };
  if (result !== 'done') return { ...outcome, code: 'JOB_FAILED', cause: `${methodVerb(earlier.method)} job of ${earlier.unit} (${label}) ended "${result}"` };
  if (earlier.method === 'StopUnit') ctx.mainPidBefore.set(pidKey, earlier.mainPid);
  else ctx.settleFrom.set(pidKey, { state, queuedAtMs: Date.parse(earlier.at), manager: ctx.manager });
  return outcome;
}

async function socketJobs(job: UnitMethodJob, method: JobMethod, ctx: ActionContext): Promise<{ unit: string; jobResult: JobResult | NoJobResult }[]> {
  const results: { unit: string; jobResult: JobResult | NoJobResult }[] = [];
  for (const socket of job.sockets) {
    try {
      if (method !== 'StopUnit') await ctx.manager.resetFailed(socket);
      results.push({ unit: socket, jobResult: await runJob(method, socket, ctx) });
    } catch (error) {
      results.push({ unit: socket, jobResult: error instanceof RestartdError && error.code === 'JOB_TIMEOUT' ? 'unknown' : 'not-run' });
    }
  }
  return results;
}

/** Milliseconds since `started`, to 0.1 ms. */
export function since(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function socketMethod(method: JobMethod): JobMethod {
  return method === 'StopUnit' || method === 'StartUnit' ? method : 'RestartUnit';
}

function methodVerb(method: JobMethod): string {
  return { RestartUnit: 'restart', ReloadUnit: 'reload', StopUnit: 'stop', StartUnit: 'start' }[method];
}
