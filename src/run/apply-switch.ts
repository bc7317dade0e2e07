import { EventEmitter } from 'eventemitter3';
import type { Config } from '../config/schema.js';
import { findUpdateAware } from '../aware/find-update-aware.js';
import { createNotifier } from '../aware/notifier.js';
import { DEFAULT_AWARE_STATE_DIR } from '../aware/aware-dirs.js';
import { tellUsers } from '../aware/tell-users.js';
import { detectStale } from '../detect.js';
import { diffGenerations } from '../generation/index.js';
import type { ChangeSet, SourceKind } from '../types/generation.js';
import type { Plan } from '../types/plan.js';
import { connectSystemd } from '../systemd/adapter.js';
import { createUserManagers } from '../systemd/user-managers.js';
import type { SystemdManager } from '../types/systemd.js';
import type { StaleProcess } from '../types/stale.js';
import { RestartdError } from '../errors.js';
import { executePlan, type SkipDone } from '../execute/execute-plan.js';
import { planStale } from '../execute/plan-stale.js';
import type { ExecuteEvents, ExecutionReport, FleetGate } from '../types/outcome.js';
import { verifyOutcomes } from '../execute/verify.js';

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
   * outcome of an action already done, which is then not run again.
   */
  journal?: { begin(plan: Plan): Plan; skipDone: SkipDone } | undefined;
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
        });
  if (options.manager === null && !options.dryRun) throw new RestartdError('BUS', 'no manager: only a dry run can go without the bus');
  const owned = options.manager === undefined ? await connectSystemd({ busAddress: options.busAddress }) : undefined;
  const manager = owned ?? options.manager ?? undefined;
  // Users' own managers, each reached by a child acting as that user when one of their units is stale.
  const users = createUserManagers({ process: manager?.process });
  try {
    // Shared by detection and the verify re-scan, so both judge files the same way.
    const scan = {
      ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }),
      ...(config.scratchDirs === undefined ? {} : { scratchDirs: config.scratchDirs }),
    };
    const detection = await detectStale({ changeSet, ...scan });
    options.onDetected?.(detection.stale);
    const aware = await findUpdateAware(detection.stale, { dirs: options.awareDirs, procRoot: options.procRoot }, (file, reason) => events.emit('aware:skipped', file, reason));
    const planned = await planStale(detection.stale, config, manager, aware, users);
    const { plan: built, warnings } = planned;
    const plan = options.journal?.begin(built) ?? built;
    for (const warning of warnings) events.emit('warning', warning);
    events.emit('plan:built', plan);

    const executed = await executePlan(plan, manager ?? NO_MANAGER, {
      dryRun: options.dryRun,
      concurrency: options.concurrency ?? config.concurrency,
      jobTimeoutMs: options.jobTimeoutMs ?? config.jobTimeoutSeconds * 1000,
      settleMs: (config.settleSeconds ?? 2) * 1000,
      skipDone: options.journal?.skipDone,
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
        },
        events,
      ),
    }, events);
    const outcomes =
      options.dryRun || manager === undefined ? executed.outcomes : await verifyOutcomes(executed.outcomes, { changeSet, manager: manager.process, ...scan }, events);
    // Users are told about what stays running (session apps, skipped units): once per process.
    if (!options.dryRun) {
      tellUsers({ stale: planned.stale, actions: plan.actions, userManagers: planned.userManagers, stateDir: options.awareStateDir ?? DEFAULT_AWARE_STATE_DIR, procRoot: options.procRoot }, (notice) => events.emit('user:notified', notice));
    }
    return { ...(changeSet === undefined ? {} : { changeSet }), plan, report: { ...executed, outcomes }, warnings };
  } finally {
    users.close();
    owned?.close();
  }
}

// A dry run without a bus executes nothing, so it never asks the manager anything.
const NO_MANAGER = new Proxy({} as SystemdManager, {
  get: () => {
    throw new RestartdError('BUS', 'no manager: a dry run without the bus asked it something');
  },
});
