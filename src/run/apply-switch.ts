import { EventEmitter } from 'eventemitter3';
import { manifestLimitsOf } from '../config/manifest-limits.js';
import type { Config } from '../config/schema.js';
import { findUpdateAware } from '../aware/find-update-aware.js';
import { createNotifier } from '../aware/notifier.js';
import { DEFAULT_AWARE_STATE_DIR } from '../aware/aware-dirs.js';
import { tellUsers, type UsersToldJournal } from '../aware/tell-users.js';
import { userOf } from '../report/status-users.js';
import { detectStale } from '../detect.js';
import { diffGenerations } from '../generation/index.js';
import type { ChangeSet, SourceKind } from '../types/generation.js';
import type { Plan, PlannedAction } from '../types/plan.js';
import type { FleetHeld } from '../types/fleet.js';
import { holdsFleetSlot } from '../execute/fleet-slots.js';
import { failure, planned as plannedOutcome } from '../execute/run-action.js';
import { connectSystemd } from '../systemd/adapter.js';
import { createUserManagers } from '../systemd/user-managers.js';
import type { SystemdManager, UserManagers } from '../types/systemd.js';
import type { StaleProcess } from '../types/stale.js';
import type { RebootTier } from '../types/status.js';
import { RestartdError } from '../errors.js';
import { executePlan, type SkipDone } from '../execute/execute-plan.js';
import { planStale } from '../execute/plan-stale.js';
import type { ExecuteEvents, ExecutionReport, FleetGate, JobJournal, Outcome } from '../types/outcome.js';
import { verifyOutcomes } from '../execute/verify.js';
import type { RollbackIntent, RolledBack } from '../types/rollback.js';
import { carryOutRollback, rollbackIntent, type RollbackContext, type RollbackHow, type RollbackJournal } from './rollback.js';

export interface ApplySwitchOptions {
  /** The generations switched between; both absent: the live scan (deleted and replaced files, scripts). */
  old?: string | undefined;
  new?: string | undefined;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  config: Config;
  /** D-Bus address of the system manager (default DBUS_SYSTEM_BUS_ADDRESS, then the system bus). */
  busAddress?: string | undefined;
  dryRun: boolean;
  /** Override the config's concurrency and jobTimeoutSeconds. */
  concurrency?: number | undefined;
  jobTimeoutMs?: number | undefined;
  procRoot?: string | undefined;
  /**
   * Crash safety (src/journal): `begin` gets the plan just built and returns the one to carry out
   * (written down before acting; an interrupted run's plan when resuming); `skipDone` gives the
   * outcome of an action already done, which is then not run again; `jobs` writes each job down
   * before it is submitted (and finds those of an interrupted run: see JobJournal).
   */
  journal?: { begin(plan: Plan): Plan; skipDone: SkipDone; rollback?: RollbackJournal | undefined; jobs?: JobJournal; users?: UsersToldJournal | undefined } | undefined;
  /**
   * Opt-in: when a restart, reload or start of this run failed, `link` (which points at `new`) goes
   * back to `old` and every unit the run restarted is restarted onto `old` (src/run/rollback.ts).
   */
  rollback?: RollbackHow | undefined;
  /** Update-aware registration dirs (default: /run/restartd/aware.d and each stale user's runtime dir). */
  awareDirs?: string[] | undefined;
  /** Where what each registration was last told is kept (default /run/restartd/aware-state). */
  awareStateDir?: string | undefined;
  /** Slots across hosts around each restart (src/fleet openFleetGate); absent: a single host. */
  fleet?: FleetGate | undefined;
  /**
   * The manager to use (the caller closes it). Absent: connected at `busAddress` and closed at the
   * end. `null` with `dryRun`: no bus, no unit facts (units are planned unit-unknown).
   */
  manager?: SystemdManager | null | undefined;
  /** Called with the detection before planning: a live run keys its journal by it. */
  onDetected?: ((stale: readonly StaleProcess[]) => void) | undefined;
}

export interface ApplySwitchResult {
  /** What the switch changed; absent for a run on the live scan. */
  changeSet?: ChangeSet | undefined;
  plan: Plan;
  /** Outcomes after verify (with --dry-run: as planned, nothing verified). */
  report: ExecutionReport;
  /** Units the manager could not describe, unit-file problems. */
  warnings: string[];
  /** The run rolled back to the old generation (see `rollback`). */
  rolledBack?: RolledBack | undefined;
  /** fleet: another host rolled this new generation back; this run stopped before its first restart (exit 8). */
  held?: FleetHeld | undefined;
}

/**
 * The whole switch, old generation to new: diff, find the stale processes the manager at the bus
 * owns, plan per policy (unit facts from the bus), execute through systemd, and re-scan to verify.
 * Events: `warning`, `plan:built`, then executePlan's and verifyOutcomes'. Throws (RestartdError)
 * only before anything was executed: bad generations, bus unreachable.
 */
export async function applySwitch(
  options: ApplySwitchOptions,
  events: EventEmitter<ExecuteEvents> = new EventEmitter<ExecuteEvents>(),
): Promise<ApplySwitchResult> {
  const { config } = options;
  if ((options.old === undefined) !== (options.new === undefined)) {
    throw new RestartdError('USAGE', `a switch needs both the old and the new generation, got only ${options.old === undefined ? 'the new' : 'the old'} one`);
  }
  const changeSet =
    options.old === undefined || options.new === undefined
      ? undefined
      : await diffGenerations(options.old, options.new, {
          ...(options.source === undefined ? {} : { source: options.source }),
          ...(options.storeDir === undefined ? {} : { storeDir: options.storeDir }),
          manifestLimits: manifestLimitsOf(config),
        });
  if (options.manager === null && !options.dryRun) throw new RestartdError('BUS', 'no manager: only a dry run can go without the bus');
  const owned = options.manager === undefined ? await connectSystemd({ busAddress: options.busAddress }) : undefined;
  const manager = owned ?? options.manager ?? undefined;
  // Users' own managers, each reached by a child acting as that user when one of their units is stale.
  const users = createUserManagers({ system: manager, process: manager?.process });
  try {
    const scan = scanOptionsOf(options);
    const detection = await detectStale({ changeSet, ...scan });
    options.onDetected?.(detection.stale);
    const aware = await findUpdateAware(detection.stale, { dirs: options.awareDirs, procRoot: options.procRoot }, (file, reason) => events.emit('aware:skipped', file, reason));
    const planned = await planStale(detection.stale, config, manager, aware, users);
    const { plan: built, warnings } = planned;
    const plan = options.journal?.begin(built) ?? built;
    for (const warning of warnings) events.emit('warning', warning);
    events.emit('plan:built', plan);

    // fleet: a release another host rolled back is not spread further (checked before any restart).
    const fleet = options.dryRun || options.old === undefined || options.new === undefined ? undefined : options.fleet;
    fleet?.beginSwitch?.({ old: options.old as string, new: options.new as string, keepSlots: options.rollback !== undefined });
    const heldBefore = await fleet?.checkHold?.(groupsOf(plan.actions, fleet));
    if (heldBefore !== undefined) {
      const outcomes = plan.actions.map((a) => (a.phase === 'none' ? { ...plannedOutcome(a), ok: true, jobResult: 'not-run' as const, durationMs: 0 } : failure(a, 'FLEET_HELD', `${a.unit ?? a.owner.name} not restarted: held: host ${heldBefore.host} rolled back ${heldBefore.new}`)));
      for (const outcome of outcomes) events.emit('action:done', outcome);
      return { ...(changeSet === undefined ? {} : { changeSet }), plan, report: { outcomes, managerSteps: [], durationMs: 0 }, warnings, held: heldBefore };
    }

    const executed = await executePlan(plan, manager ?? NO_MANAGER, {
      dryRun: options.dryRun,
      ...jobOptionsOf(options),
      skipDone: options.journal?.skipDone,
      ...(options.journal?.jobs === undefined ? {} : { jobJournal: options.journal.jobs }),
      ...(options.fleet === undefined ? {} : { fleet: options.fleet }),
      userManagers: users,
      notifier: createNotifier(
        {
          stale: detection.stale,
          oldGeneration: options.old ?? null,
          newGeneration: options.new ?? null,
          ...(options.awareDirs === undefined ? {} : { dirs: options.awareDirs }),
          ...(options.awareStateDir === undefined ? {} : { stateDir: options.awareStateDir }),
          skippedReported: true,
          maxAckTimeoutMs: config.limits?.ackTimeoutMaxMs,
        },
        events,
      ),
    }, events);
    const outcomes =
      options.dryRun || manager === undefined ? executed.outcomes : await verifyOutcomes(executed.outcomes, { changeSet, manager: manager.process, ...scan }, events);
    const intent = options.rollback === undefined || options.dryRun || manager === undefined || options.old === undefined || options.new === undefined
      ? undefined
      : rollbackIntent(outcomes, options.rollback, options.new, options.old);
    // Recorded in etcd before the link is flipped: other hosts of the same NEW stop before their first restart.
    if (intent !== undefined && fleet !== undefined) await fleet.recordRollback?.(groupsOf(plan.actions.filter((a) => a.unit !== undefined && intent.units.includes(a.unit)), fleet), intent.reason);
    const rolledBack = intent === undefined || manager === undefined ? undefined : await carryOutRollback(intent, outcomes, rollbackContext(options, manager, plan, users), events);
    await fleet?.releaseKept?.();
    const held = fleet?.held?.();
    // Users are told about what stays running (session apps, skipped units): once per switch.
    if (!options.dryRun) {
      await tellUsers(
        {
          stale: planned.stale,
          actions: plan.actions,
          userManagers: planned.userManagers,
          users,
          stateDir: options.awareStateDir ?? DEFAULT_AWARE_STATE_DIR,
          journal: options.journal?.users,
          procRoot: options.procRoot,
          rootPrefix: manager?.process?.rootPrefix,
          channels: config.notify,
          reboot: await rebootTierOf(planned.stale, plan, options.procRoot),
        },
        (notice) => events.emit('user:notified', notice),
        (message) => events.emit('warning', message),
      );
    }
    return { ...(changeSet === undefined ? {} : { changeSet }), plan, report: { ...executed, outcomes }, warnings, ...(rolledBack === undefined ? {} : { rolledBack }), ...(held === undefined ? {} : { held }) };
  } finally {
    await options.fleet?.releaseKept?.();
    users.close();
    owned?.close();
  }
}

/** The reboot tier after the plan (status's): a user is told to reboot when it says so. Loaded only when something is left to tell about. */
async function rebootTierOf(stale: readonly StaleProcess[], plan: Plan, procRoot: string | undefined): Promise<RebootTier | undefined> {
  if (!stale.some((p) => userOf(p) !== undefined)) return undefined;
  const [{ readKernelFacts }, { decideReboot }] = await Promise.all([import('../status/kernel-facts.js'), import('../status/reboot-tier.js')]);
  return decideReboot(stale, await readKernelFacts(procRoot === undefined ? {} : { procRoot }), plan.actions).tier;
}

/** How detection and every verify re-scan of a switch (its rollback's too) judge files: the same way. */
function scanOptionsOf(options: ApplySwitchOptions): RollbackContext['scan'] {
  const { config } = options;
  return {
    ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }),
    ...(config.scratchDirs === undefined ? {} : { scratchDirs: config.scratchDirs }),
    compareMaxBytes: config.limits?.compareMaxBytes,
    maxHeldFiles: config.limits?.heldFilesPerProcess,
  };
}

/** Jobs in flight, a job's time and a unit's settle time: the switch's and its rollback's. */
function jobOptionsOf(options: ApplySwitchOptions): { concurrency: number; jobTimeoutMs: number; settleMs: number } {
  const { config } = options;
  return {
    concurrency: options.concurrency ?? config.concurrency,
    jobTimeoutMs: options.jobTimeoutMs ?? config.jobTimeoutSeconds * 1000,
    settleMs: config.settleSeconds * 1000,
  };
}

/** What a rollback takes of the switch's options. */
export function rollbackContext(options: ApplySwitchOptions, manager: SystemdManager, plan: Plan, userManagers?: UserManagers): RollbackContext {
  return {
    manager,
    source: options.source,
    storeDir: options.storeDir,
    ...jobOptionsOf(options),
    commandTimeoutMs: (options.config.rollback?.commandTimeoutSeconds ?? 600) * 1000,
    scan: scanOptionsOf(options),
    manifestLimits: manifestLimitsOf(options.config),
    daemonReload: plan.daemonReload,
    userDaemonReloads: plan.userDaemonReloads,
    userManagers,
    journal: options.journal?.rollback,
  };
}

/**
 * Finishes a rollback an interrupted run began (its journal says so): never the switch forward
 * again, never a restart twice. The report is the switch's, as the journal kept it.
 */
export async function resumeRollback(
  options: ApplySwitchOptions,
  pending: { intent: RollbackIntent; outcomes: Outcome[]; flipped: boolean },
  plan: Plan,
  events: EventEmitter<ExecuteEvents> = new EventEmitter<ExecuteEvents>(),
): Promise<ApplySwitchResult> {
  const owned = options.manager === undefined || options.manager === null ? await connectSystemd({ busAddress: options.busAddress }) : undefined;
  const manager = owned ?? (options.manager as SystemdManager);
  const users = createUserManagers({ system: manager, process: manager.process });
  try {
    const fleet = options.fleet;
    if (fleet !== undefined) {
      fleet.beginSwitch?.({ old: pending.intent.to, new: pending.intent.from, keepSlots: false });
      await fleet.recordRollback?.(groupsOf(plan.actions.filter((a) => a.unit !== undefined && pending.intent.units.includes(a.unit)), fleet), pending.intent.reason);
    }
    const rolledBack = await carryOutRollback(pending.intent, pending.outcomes, rollbackContext(options, manager, plan, users), events, { begun: true, flipped: pending.flipped });
    return { plan, report: { outcomes: pending.outcomes, managerSteps: [], durationMs: 0 }, warnings: [], rolledBack };
  } finally {
    users.close();
    owned?.close();
  }
}

/** The fleet groups of the actions that take slots (the groups a hold is looked up and recorded in). */
function groupsOf(actions: readonly PlannedAction[], fleet: FleetGate): string[] {
  return [...new Set(actions.filter(holdsFleetSlot).map((a) => fleet.groupOf(a)))].sort();
}

// A dry run without a bus executes nothing, so it never asks the manager anything.
const NO_MANAGER = new Proxy({} as SystemdManager, {
  get: () => {
    throw new RestartdError('BUS', 'no manager: a dry run without the bus asked it something');
  },
});
