import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEmitter } from 'eventemitter3';
import { SYSTEM_AWARE_DIR, userAwareDir, userRuntimeUids } from '../aware/aware-dirs.js';
import type { RegistrationStatus, UserNotified } from '../types/aware.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_CONFIG, defaultConfigAbsent } from '../config/paths.js';
import { describeFsError, RestartdError } from '../errors.js';
import { DEFERRED_FILE, FLEET_RUN_FILE } from '../fleet/fleet-files.js';
import type { FleetStatus } from '../fleet/fleet-state.js';
import type { RunSummary } from '../journal/last-runs.js';
import { DEFAULT_STATE_DIR, SWITCHES_DIR } from '../journal/state-dir.js';
import type { Plan } from '../types/plan.js';
import type { StatusUser } from '../types/status.js';
import type { StatusReport } from '../report/status-json.js';
import { EXIT, type ExitCode } from '../types/exit-codes.js';
import type { RunEvents } from './events.js';
import { detectReport } from './plan-run.js';
import { readKernelFacts } from '../status/kernel-facts.js';
import { decideReboot, statusExitCode } from '../status/reboot-tier.js';
import { defaultGenerationPaths } from '../status/find-generations.js';
import { buildStatusReport } from '../report/status-json.js';
import { awareStateDirOf, type RunRequest } from './request.js';

/** What `status` takes beyond a run's request: where generations and kernels are. */
export interface StatusRequest extends Pick<RunRequest, 'procRoot' | 'scratchDirs' | 'config' | 'storeDir' | 'busAddress' | 'stateDir' | 'awareDirs' | 'awareStateDir'> {
  /** Generation sources (a Nix profile, OSTree deployments dir, release dir); default: the config's, else the usual places. */
  generations?: string[] | undefined;
  /** Where installed kernels are (default /lib/modules and NixOS' current system). */
  modulesDirs?: string[] | undefined;
  /** The booted system link (nix) and root (deployments); defaults /run/booted-system and /. */
  bootedSystem?: string | undefined;
  bootedRoot?: string | undefined;
  /** Called as the run moves on (a progress line on a terminal). */
  onPhase?: ((phase: string) => void) | undefined;
}

export interface StatusRunResult {
  /** The object `restartd status --json` prints. */
  report: StatusReport;
  /** The plan behind `report.actions` (absent when nothing is stale). */
  plan: Plan | undefined;
  exitCode: ExitCode;
  /** The scan could not see enough to judge: not root, and others' processes unreadable. */
  blind: boolean;
}

/** How many of the journal's runs status shows. */
const LAST_RUNS_SHOWN = 5;

/** The config, loaded only when there is one: zod costs status tens of milliseconds otherwise. */
async function configIfAny(config: Config | string | undefined): Promise<Config | undefined> {
  if (typeof config === 'object') return config;
  if (config === undefined && defaultConfigAbsent()) return undefined;
  const { loadConfig } = await import('../config/load-config.js');
  return loadConfig(config);
}

/**
 * The whole picture of this machine: stale processes and what the policy would do with each owner,
 * the reboot tier and why, installed generations and their disk, update-aware registrations, the
 * last runs and the fleet state. Warnings (a generation source that vanished, an unreadable state
 * dir, no unit facts) are `warning` events; the verdict's exit code is nagios': 0, 1, 2, and 3 when
 * the scan was blind (not root) and saw nothing to do.
 */
export async function runStatus(request: StatusRequest, events?: EventEmitter<RunEvents>): Promise<StatusRunResult> {
  const warn = (message: string): void => void events?.emit('warning', message);
  const stateDir = request.stateDir ?? DEFAULT_STATE_DIR;
  const config = await configIfAny(request.config);
  request.onPhase?.('scanning processes');
  const [{ detection, report }, kernel, installed, registrations, runs] = await Promise.all([
    detectReport(request, undefined, config).finally(() => request.onPhase?.('measuring generations')),
    readKernelFacts({
      ...(request.procRoot === undefined ? {} : { procRoot: request.procRoot }),
      ...(request.modulesDirs === undefined ? {} : { modulesDirs: request.modulesDirs }),
    }),
    installedSources(request, warn, config?.generations),
    registrationsOf({ ...request, awareStateDir: awareStateDirOf({ ...request, stateDir }) }),
    // Only a state dir with journals is read (their parser loads zod, tens of milliseconds).
    existsSync(join(stateDir, SWITCHES_DIR)) ? import('../journal/last-runs.js').then(({ lastRuns }) => lastRunsOrWarn(lastRuns, stateDir, warn)) : ([] as RunSummary[]),
  ]);
  // What the policy would do with each owner: the same plan `restartd plan` and `apply` build.
  let plan: Plan | undefined;
  // status is an overview: the planner's warnings (no unit facts and why) are part of the report.
  let planWarnings: string[] = [];
  let users: StatusUser[] | undefined;
  if (detection.stale.length > 0) {
    request.onPhase?.('planning actions');
    const { planWithOptionalManager } = await import('./plan-actions.js');
    // No config: configIfAny already found the default file absent, so the defaults, not a second look.
    const planned = await planWithOptionalManager(detection.stale, config ?? structuredClone(DEFAULT_CONFIG), request.busAddress, {
      dirs: request.awareDirs,
      procRoot: request.procRoot,
    });
    report.actions = planned.plan.actions;
    plan = planned.plan;
    planWarnings = planned.warnings;
    const { groupByUser } = await import('../report/status-users.js');
    users = groupByUser(report.stale, planned.plan.actions, planned.userManagers ?? new Map());
    if (users.length > 0 && existsSync(join(stateDir, SWITCHES_DIR))) users = withNotified(users, await notifiedOrWarn(stateDir, warn));
  }
  // A deferred switch, and what a live run waits for (files in the state dir; no etcd needed).
  const fleet: FleetStatus = [DEFERRED_FILE, FLEET_RUN_FILE].some((file) => existsSync(join(stateDir, file)))
    ? (await import('../fleet/fleet-state.js')).readFleetStatus(stateDir)
    : { waiting: [], holding: [] };
  // The tier follows what the plan will do: an owner it leaves for a reboot is not "restarts needed".
  const reboot = decideReboot(report.stale, kernel, plan?.actions ?? []);
  const status = buildStatusReport(report, { reboot, installed, registrations, lastRuns: runs, fleet, users });
  const tierCode = statusExitCode(status.reboot);
  // Not root and others' processes unreadable: "nothing to do" would be a guess.
  const blind = typeof process.geteuid === 'function' && process.geteuid() !== 0 && report.unreadable.length > 0;
  if (blind) planWarnings.unshift(blindWarning(report.scanned.unreadable, report.scanned.processes));
  if (planWarnings.length > 0) status.warnings = planWarnings;
  return { report: status, plan, exitCode: blind && tierCode === EXIT.OK ? EXIT.ERROR : tierCode, blind };
}

async function installedSources(request: StatusRequest, warn: (message: string) => void, fromConfig: readonly string[] | undefined) {
  // The request's generations, else the config's, else what is found at the usual places.
  const configured = request.generations ?? fromConfig;
  const paths = configured ?? (await defaultGenerationPaths());
  if (paths.length === 0) return undefined;
  // Loaded on demand: disk accounting only runs when there are generations.
  const { measureGenerations } = await import('../status/measure-generations.js');
  const sources = [];
  for (const path of paths) {
    try {
      sources.push(
        await measureGenerations(path, {
          ...(request.storeDir === undefined ? {} : { storeDir: request.storeDir }),
          ...(request.bootedSystem === undefined ? {} : { bootedSystem: request.bootedSystem }),
          ...(request.bootedRoot === undefined ? {} : { bootedRoot: request.bootedRoot }),
        }),
      );
    } catch (error) {
      const detail = describeFsError(error);
      // A configured source that is unusable is bad input; a detected one that vanished is not.
      if (configured !== undefined) {
        throw new RestartdError('BAD_GENERATION', `${request.generations === undefined ? 'config generations' : '--generations'} ${path}: ${detail}`, { subject: path, cause: error });
      }
      warn(`generations at ${path} skipped: ${detail}`);
    }
  }
  return sources;
}

/**
 * The update-aware registrations, read only when one of their dirs exists: reading them loads zod
 * (tens of milliseconds), which a machine without any registration should not pay for.
 */
async function registrationsOf(request: StatusRequest): Promise<RegistrationStatus[]> {
  const dirs = (request.awareDirs ?? [SYSTEM_AWARE_DIR, ...userRuntimeUids().map((uid) => userAwareDir(uid))]).filter((dir) => existsSync(dir));
  if (dirs.length === 0) return [];
  const { listAllRegistrations } = await import('../aware/list-registrations.js');
  return listAllRegistrations({
    dirs,
    ...(request.awareStateDir === undefined ? {} : { stateDir: request.awareStateDir }),
    ...(request.procRoot === undefined ? {} : { procRoot: request.procRoot }),
  });
}

/** The journal's last runs; an unreadable state dir is a warning, not a failed status. */
function lastRunsOrWarn(lastRuns: (dir: string, n: number) => RunSummary[], stateDir: string, warn: (message: string) => void): RunSummary[] {
  try {
    return lastRuns(stateDir, LAST_RUNS_SHOWN);
  } catch (error) {
    warn(`last runs in ${stateDir} not read: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** What each user was last told, from the journals; an unreadable state dir is a warning. */
async function notifiedOrWarn(stateDir: string, warn: (message: string) => void): Promise<Map<number, UserNotified>> {
  try {
    const { lastNotified } = await import('../journal/last-notified.js');
    return lastNotified(stateDir);
  } catch (error) {
    warn(`what users were told, in ${stateDir}, not read: ${error instanceof Error ? error.message : String(error)}`);
    return new Map();
  }
}

function withNotified(users: StatusUser[], notified: ReadonlyMap<number, UserNotified>): StatusUser[] {
  return users.map((user) => {
    const told = notified.get(user.uid);
    return told === undefined ? user : { ...user, notified: told };
  });
}

/** What a scan by a user other than root could not see, said the same in text and JSON. */
function blindWarning(unreadable: number, processes: number): string {
  return `not run as root: ${unreadable} of ${processes} processes could not be read fully: run as root for the whole picture`;
}
