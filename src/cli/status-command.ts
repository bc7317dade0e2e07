import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { DEFAULT_CONFIG_PATH } from '../config/paths.js';
import { detectStale } from '../detect.js';
import { describeFsError, RestartdError } from '../errors.js';
import type { ChangeSet } from '../generation/types.js';
import { buildStaleReport, type StaleReport } from '../report/stale-json.js';
import { renderStaleText } from '../report/stale-text.js';
import type { RunSummary } from '../journal/last-runs.js';
import { DEFAULT_STATE_DIR, SWITCHES_DIR } from '../journal/state-dir.js';
import { SYSTEM_AWARE_DIR, userAwareDir, userRuntimeUids } from '../aware/aware-dirs.js';
import type { RegistrationStatus } from '../aware/types.js';
import { DEFERRED_FILE, FLEET_RUN_FILE } from '../fleet/fleet-files.js';
import type { Progress, ProgressStream } from '../status/progress.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './io.js';

export interface StaleCommandArgs {
  json: boolean;
  procRoot?: string | undefined;
  changeSet: ChangeSet;
  /** --config PATH; without it the default file is read when it exists. */
  config?: string | undefined;
  /** The actions are decided with unit facts from the manager at this bus, when it answers. */
  plan: { bus?: string | undefined; awareDirs?: string[] | undefined };
}

/** `restartd status`'s options: the stale report's, plus where generations and kernels are. */
export interface StatusCommandArgs {
  json: boolean;
  /** --prometheus: node_exporter textfile-collector format instead of text. */
  prometheus?: boolean | undefined;
  procRoot?: string | undefined;
  config?: string | undefined;
  /** --generations PATH (repeatable); undefined: the Nix system profile and OSTree deployments, when present. */
  generations?: string[] | undefined;
  /** --modules-dir DIR (repeatable): where installed kernels are (default /lib/modules and NixOS' current system). */
  modulesDirs?: string[] | undefined;
  /** --store-dir DIR for nix generations. */
  storeDir?: string | undefined;
  /** The booted system link (nix) and root (deployments); defaults /run/booted-system and /. */
  bootedSystem?: string | undefined;
  bootedRoot?: string | undefined;
  /** Colour the human report; default: stdout is a TTY and NO_COLOR is unset. */
  colour?: boolean | undefined;
  /** D-Bus address for unit facts of the actions (default DBUS_SYSTEM_BUS_ADDRESS, then the system bus). */
  bus?: string | undefined;
  /** restartd's state dir, whose journal gives the last runs (default /var/lib/restartd). */
  stateDir?: string | undefined;
  /** Registration dirs to list (default: /run/restartd/aware.d and each /run/user/UID/restartd/aware.d). */
  awareDirs?: string[] | undefined;
  /** Where restartd keeps what it last told each registration (default /run/restartd/aware-state). */
  awareStateDir?: string | undefined;
  /** Where progress goes on a long run (only drawn on a terminal); default stderr. */
  progress?: ProgressStream | undefined;
}

/** How many of the journal's runs status shows. */
const LAST_RUNS_SHOWN = 5;

/** The config, loaded only when there is one: zod costs status tens of milliseconds otherwise. */
async function configIfAny(path: string | undefined): Promise<Config | undefined> {
  if (path === undefined && !existsSync(DEFAULT_CONFIG_PATH)) return undefined;
  const { loadConfig } = await import('../config/load-config.js');
  return loadConfig(path);
}

async function detectReport(args: { procRoot?: string | undefined; changeSet?: ChangeSet | undefined }, config: Config | undefined) {
  const detection = await detectStale({
    changeSet: args.changeSet,
    ...(args.procRoot === undefined ? {} : { procRoot: args.procRoot }),
    ...(config?.scratchDirs === undefined ? {} : { scratchDirs: config.scratchDirs }),
  });
  return { detection, report: buildStaleReport({ ...detection, changeSet: args.changeSet }) };
}

/** `restartd plan`: detect against the switch's ChangeSet, decide the actions, report; exit 0 or 1. */
export async function runStaleReport(args: StaleCommandArgs, io: CliIO): Promise<number> {
  const { loadConfig } = await import('../config/load-config.js');
  const config = await loadConfig(args.config);
  const { detection, report } = await detectReport(args, config);
  const { planWithOptionalManager } = await import('./plan-actions.js');
  const planned = await planWithOptionalManager(detection.stale, config, args.plan.bus, { dirs: args.plan.awareDirs, procRoot: args.procRoot });
  for (const warning of planned.warnings) io.err(`restartd: warning: ${warning}\n`);
  report.actions = planned.plan.actions;
  io.out(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderStaleText(report) + planned.text);
  return report.stale.length > 0 ? EXIT.STALE : EXIT.OK;
}

async function installedSources(args: StatusCommandArgs, io: CliIO, fromConfig: readonly string[] | undefined) {
  const { defaultGenerationPaths } = await import('../status/find-generations.js');
  // --generations, else the config's `generations`, else what is found at the usual places.
  const configured = args.generations ?? fromConfig;
  const paths = configured ?? (await defaultGenerationPaths());
  if (paths.length === 0) return undefined;
  // Loaded on demand: disk accounting only runs when there are generations.
  const { measureGenerations } = await import('../status/measure-generations.js');
  const sources = [];
  for (const path of paths) {
    try {
      sources.push(
        await measureGenerations(path, {
          ...(args.storeDir === undefined ? {} : { storeDir: args.storeDir }),
          ...(args.bootedSystem === undefined ? {} : { bootedSystem: args.bootedSystem }),
          ...(args.bootedRoot === undefined ? {} : { bootedRoot: args.bootedRoot }),
        }),
      );
    } catch (error) {
      const detail = describeFsError(error);
      // A configured source that is unusable is bad input; a detected one that vanished is not.
      if (configured !== undefined) throw new RestartdError('BAD_GENERATION', `${args.generations === undefined ? 'config generations' : '--generations'} ${path}: ${detail}`, { subject: path, cause: error });
      io.err(`restartd: warning: generations at ${path} skipped: ${detail}\n`);
    }
  }
  return sources;
}

/**
 * `restartd status`: stale processes, the reboot tier and why, installed generations and their
 * disk. Exit 0 nothing to do, 1 restarts (or a daemon-reexec) needed, 2 a (soft-)reboot needed.
 */
export async function runStatus(args: StatusCommandArgs, io: CliIO): Promise<number> {
  if (args.json && args.prometheus) throw new RestartdError('USAGE', 'status: --json and --prometheus exclude each other');
  const { createProgress } = await import('../status/progress.js');
  const progress = createProgress(args.progress ?? process.stderr);
  try {
    return await statusWithProgress(args, io, progress);
  } finally {
    progress.done();
  }
}

async function statusWithProgress(args: StatusCommandArgs, io: CliIO, progress: Progress): Promise<number> {
  const stateDir = args.stateDir ?? DEFAULT_STATE_DIR;
  const config = await configIfAny(args.config);
  progress.phase('scanning processes');
  const [{ detection, report }, kernel, installed, { decideReboot, statusExitCode }, registrations, runs] = await Promise.all([
    detectReport(args, config).finally(() => progress.phase('measuring generations')),
    import('../status/kernel-facts.js').then(({ readKernelFacts }) =>
      readKernelFacts({
        ...(args.procRoot === undefined ? {} : { procRoot: args.procRoot }),
        ...(args.modulesDirs === undefined ? {} : { modulesDirs: args.modulesDirs }),
      }),
    ),
    installedSources(args, io, config?.generations),
    import('../status/reboot-tier.js'),
    registrationsOf(args),
    // Only a state dir with journals is read (their parser loads zod, tens of milliseconds).
    existsSync(join(stateDir, SWITCHES_DIR))
      ? import('../journal/last-runs.js').then(({ lastRuns }) => lastRunsOrWarn(lastRuns, stateDir, io))
      : ([] as RunSummary[]),
  ]);
  // What the policy would do with each owner: the same plan `restartd plan` and `apply` build.
  let planText = '';
  if (detection.stale.length > 0) {
    progress.phase('planning actions');
    const { planWithOptionalManager } = await import('./plan-actions.js');
    const { loadConfig } = await import('../config/load-config.js');
    const planned = await planWithOptionalManager(detection.stale, config ?? (await loadConfig(args.config)), args.bus, {
      dirs: args.awareDirs,
      procRoot: args.procRoot,
    });
    // status is an overview: what could not be decided shows in the actions (skip: unit-unknown),
    // and ignored registrations in their section; `restartd plan` prints the warnings.
    report.actions = planned.plan.actions;
    planText = planned.text;
  }
  progress.done();
  const { buildStatusReport } = await import('../report/status-json.js');
  // fleet (issue 7): a deferred switch, and what a live run waits for (files in the state dir; no etcd needed).
  const fleet = [DEFERRED_FILE, FLEET_RUN_FILE].some((file) => existsSync(join(stateDir, file)))
    ? (await import('../fleet/fleet-state.js')).readFleetStatus(stateDir)
    : { waiting: [], holding: [] };
  const status = buildStatusReport(report satisfies StaleReport, { reboot: decideReboot(report.stale, kernel), installed, registrations, lastRuns: runs, fleet });
  const code = statusExitCode(status.reboot);
  if (args.prometheus) {
    const { renderPrometheus } = await import('../report/prometheus.js');
    io.out(renderPrometheus(status, code));
  } else if (args.json) {
    io.out(`${JSON.stringify(status, null, 2)}\n`);
  } else {
    const [{ renderStatusText }, { wantsColour }, { registrationsSection, lastRunsSection, fleetSection }] = await Promise.all([
      import('../report/status-text.js'),
      import('../status/colour.js'),
      import('../report/status-sections.js'),
    ]);
    const sections = [registrationsSection(registrations), lastRunsSection(runs), fleetSection(fleet)];
    io.out(renderStatusText(status, { colour: args.colour ?? wantsColour(process.stdout.isTTY, process.env), sections }) + planText);
  }
  return code;
}

/**
 * The update-aware registrations, read only when one of their dirs exists: reading them loads zod
 * (tens of milliseconds), which a machine without any registration should not pay for.
 */
async function registrationsOf(args: StatusCommandArgs): Promise<RegistrationStatus[]> {
  const dirs = (args.awareDirs ?? [SYSTEM_AWARE_DIR, ...userRuntimeUids().map((uid) => userAwareDir(uid))]).filter((dir) => existsSync(dir));
  if (dirs.length === 0) return [];
  const { listAllRegistrations } = await import('../aware/list-registrations.js');
  return listAllRegistrations({
    dirs,
    ...(args.awareStateDir === undefined ? {} : { stateDir: args.awareStateDir }),
    ...(args.procRoot === undefined ? {} : { procRoot: args.procRoot }),
  });
}

/** The journal's last runs; an unreadable state dir is a warning, not a failed status. */
function lastRunsOrWarn(lastRuns: (dir: string, n: number) => RunSummary[], stateDir: string, io: CliIO): RunSummary[] {
  try {
    return lastRuns(stateDir, LAST_RUNS_SHOWN);
  } catch (error) {
    io.err(`restartd: warning: last runs in ${stateDir} not read: ${error instanceof Error ? error.message : String(error)}\n`);
    return [];
  }
}
