import { EventEmitter } from 'eventemitter3';
import { PHASES, type Phase, type Plan, type PlannedAction } from '../types/plan.js';
import type { SystemdManager } from '../types/systemd.js';
import { holdsFleetSlot, FleetSlots } from './fleet-slots.js';
import { runPool } from './pool.js';
import { unitKeyOf } from '../plan/unit-key.js';
import { settleOutcome } from './settle.js';
import { describeError, failure, planned, runUnitAction, since, type ActionContext } from './run-action.js';
import type { ExecuteEvents, ExecuteOptions, ExecutionReport, ManagerStep, Outcome } from '../types/outcome.js';

const DEFAULT_SETTLE_MS = 2000;
export const DEFAULT_EXECUTE_OPTIONS: ExecuteOptions = { dryRun: false, concurrency: 4, jobTimeoutMs: 90_000, settleMs: DEFAULT_SETTLE_MS };

/** Resuming a journaled run: the outcome to report instead of running an action already done. */
export type SkipDone = (action: PlannedAction) => Outcome | undefined;

/**
 * Carries out a plan through systemd, phase by phase: stop → daemon-reload (PID 1's re-exec, and the
 * daemon-reload when the plan asks for one) → reload → restart → start → notify; then the skips and
 * reboot hints. Within a phase at most `concurrency` jobs run at once; one failed unit never stops
 * the others. Decides nothing: every outcome follows from the plan. With `dryRun`, nothing is
 * executed and each outcome says what would be done. Every step is an event on `events`.
 */
export async function executePlan(
  plan: Plan,
  manager: SystemdManager,
  options: Partial<ExecuteOptions> & { skipDone?: SkipDone | undefined } = {},
  events: EventEmitter<ExecuteEvents> = new EventEmitter<ExecuteEvents>(),
): Promise<ExecutionReport> {
  const started = performance.now();
  const { skipDone, ...rest } = options;
  const opts: ExecuteOptions = { ...DEFAULT_EXECUTE_OPTIONS, ...rest };
  // fleet: slots held across hosts; absent (no --fleet, no delay) or dry run: none.
  const slots = opts.fleet === undefined || opts.dryRun ? undefined : new FleetSlots(opts.fleet, events);
  const ctx: ActionContext = {
    manager,
    options: opts,
    events,
    mainPidBefore: new Map(),
    settleFrom: new Map(),
    gated: (action, job) => (slots !== undefined && holdsFleetSlot(action) ? slots.around(action, job) : job()),
  };
  // Outcomes by plan index: events come as jobs finish, the report keeps the plan's order.
  const outcomes = new Map<number, Outcome>();
  const index = new Map(plan.actions.map((action, i) => [action, i]));
  const managerSteps: ManagerStep[] = [];
  const done = (action: PlannedAction, outcome: Outcome): void => {
    outcomes.set(index.get(action) ?? outcomes.size, outcome);
    events.emit('action:done', outcome);
  };

  const run = async (action: PlannedAction): Promise<Outcome> => {
    events.emit('action:start', action);
    return runAction(action, ctx);
  };
  try {
    for (const phase of PHASES) {
      const actions = plan.actions.filter((a) => a.phase === phase);
      const reloads = plan.daemonReload || (plan.userDaemonReloads ?? []).length > 0;
      if (actions.length === 0 && !(phase === 'daemon-reload' && reloads)) continue;
      events.emit('phase:start', phase);
      if (phase === 'daemon-reload') {
        await runManagerPhase(plan, actions, ctx, managerSteps, done, skipDone);
        continue;
      }
      await runPool(actions, phaseConcurrency(phase, opts), async (action) => {
        // journal: an action recorded ok by an interrupted run of this switch is not run again.
        const prior = skipDone?.(action);
        if (prior !== undefined) return done(action, prior);
        // fleet: another host rolled this release back; nothing more is run.
        const hold = opts.dryRun ? undefined : opts.fleet?.held?.();
        if (hold !== undefined) return done(action, failure(action, 'FLEET_HELD', `${action.unit ?? action.owner.name} not restarted: held: host ${hold.host} rolled back ${hold.new}`));
        // A unit settling is still being restarted: it keeps its place in the pool and its fleet slot.
        done(action, await ctx.gated(action, async () => settle(await run(action), ctx)));
      });
    }
  } finally {
    // A stop-start whose start never came still lets its slot go.
    await slots?.releaseAll();
  }
  for (const action of plan.actions.filter((a) => a.phase === 'none')) {
    done(action, { ...planned(action), ok: true, jobResult: 'not-run', durationMs: 0, ...(opts.dryRun ? { dryRun: true as const } : {}) });
  }
  const byPlan = [...outcomes].sort(([a], [b]) => a - b).map(([, outcome]) => outcome);
  return { outcomes: byPlan, managerSteps, durationMs: since(started) };
}

/** A done (re)start or reload, watched for the settle time (see settleOutcome); other outcomes as they are. */
function settle(outcome: Outcome, ctx: ActionContext): Promise<Outcome> {
  // A user unit settles on its user's manager (keyed by its uid, as run-action keys it).
  const key = unitKeyOf(outcome.owner, outcome.unit);
  const from = ctx.settleFrom.get(key);
  if (from === undefined || !outcome.ok) return Promise.resolve(outcome);
  ctx.settleFrom.delete(key);
  return settleOutcome(outcome, from, from.manager, ctx.options.settleMs ?? DEFAULT_SETTLE_MS);
}

function phaseConcurrency(phase: Phase, options: ExecuteOptions): number {
  // Telling apps is not a systemd job; the limit protects the manager, not them.
  return phase === 'notify' ? Number.POSITIVE_INFINITY : Math.max(1, options.concurrency);
}

/**
 * An update-aware unit that answered restart-me (or gave no answer, with fallback restart): the job
 * the policy had chosen runs after all, and the outcome keeps what each process was told.
 */
async function fallBack(action: PlannedAction, job: 'restart' | 'reload', told: Outcome, ctx: ActionContext): Promise<Outcome> {
  const fallback: PlannedAction = { ...action, action: job, phase: job };
  // With --fleet, the fallback's job takes a slot of the unit's group like any restart.
  const ran = await ctx.gated(fallback, () => runUnitAction(fallback, ctx));
  const detail = `update-aware fallback: ${told.cause ?? 'restart needed'}; ${job} ${ran.ok ? 'done' : 'failed'}`;
  return { ...ran, action: 'notify', phase: 'notify', reason: action.reason, detail, ...(told.notified === undefined ? {} : { notified: told.notified }) };
}

async function runAction(action: PlannedAction, ctx: ActionContext): Promise<Outcome> {
  if (action.action === 'notify') {
    // update-aware: registered processes are told; the others keep NOTIFY_UNAVAILABLE.
    const told = ctx.options.notifier !== undefined && !ctx.options.dryRun ? await ctx.options.notifier(action) : undefined;
    if (told?.code === 'RESTART_NEEDED' && action.fallback !== undefined && action.unit !== undefined) return fallBack(action, action.fallback, told, ctx);
    if (told !== undefined) return told;
    const name = action.unit ?? action.owner.name;
    if (ctx.options.dryRun) return failure(action, 'NOTIFY_UNAVAILABLE', `${name}: its processes would be told if registered as update-aware, else left running`, { dryRun: true });
    return failure(action, 'NOTIFY_UNAVAILABLE', `${name} did not register as update-aware: its processes were left running`);
  }
  return runUnitAction(action, ctx);
}

/** PID 1's re-exec first (it reloads every unit too), then the daemon-reload if still needed. */
async function runManagerPhase(
  plan: Plan,
  actions: PlannedAction[],
  ctx: ActionContext,
  steps: ManagerStep[],
  done: (action: PlannedAction, outcome: Outcome) => void,
  skipDone: SkipDone | undefined,
): Promise<void> {
  const { manager, options, events } = ctx;
  const step = async (kind: ManagerStep['step'], call: () => Promise<void>, uid?: number): Promise<ManagerStep> => {
    const started = performance.now();
    const who = uid === undefined ? {} : { uid };
    let result: ManagerStep;
    if (options.dryRun) {
      result = { step: kind, ...who, ok: true, durationMs: 0, dryRun: true };
    } else {
      try {
        await call();
        result = { step: kind, ...who, ok: true, durationMs: since(started) };
      } catch (error) {
        result = { step: kind, ...who, ok: false, durationMs: since(started), cause: describeError(error).cause };
      }
    }
    steps.push(result);
    events.emit('manager:done', result);
    return result;
  };

  let reexecuted = false;
  for (const action of actions) {
    // journal: an action recorded ok by an interrupted run of this switch is not run again.
    const prior = skipDone?.(action);
    if (prior !== undefined) {
      done(action, prior);
      continue;
    }
    events.emit('action:start', action);
    if (action.action !== 'daemon-reexec') {
      done(action, failure(action, 'SYSTEMD', `no manager step for a ${action.action} action in phase daemon-reload`));
      continue;
    }
    const user = action.userManager?.uid;
    const result = user === undefined ? await step('daemon-reexec', () => manager.reexecute()) : await step('daemon-reexec', () => onUserManager(user, options, (m) => m.reexecute()), user);
    if (user === undefined) reexecuted ||= result.ok && !options.dryRun;
    done(action, {
      ...planned(action),
      ok: result.ok,
      jobResult: result.ok && !options.dryRun ? 'done' : 'not-run',
      durationMs: result.durationMs,
      ...(options.dryRun ? { dryRun: true as const } : {}),
      ...(result.ok ? {} : { code: 'SYSTEMD' as const, cause: result.cause ?? 'daemon-reexec failed' }),
    });
  }
  if (plan.daemonReload && !reexecuted) await step('daemon-reload', () => manager.daemonReload());
  for (const uid of plan.userDaemonReloads ?? []) await step('daemon-reload', () => onUserManager(uid, options, (m) => m.daemonReload()), uid);
}

/** A call on a user's own manager; throws when this run cannot reach it. */
async function onUserManager(uid: number, options: ExecuteOptions, call: (manager: SystemdManager) => Promise<void>): Promise<void> {
  const reached = await options.userManagers?.get(uid);
  if (reached?.state !== 'running') throw new Error(reached?.reason ?? `the user manager of uid ${uid} is not reachable by this run`);
  await call(reached.manager);
}
