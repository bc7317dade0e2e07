import { EventEmitter } from 'eventemitter3';
import { loadConfig } from '../config/index.js';
import { applySwitch } from '../execute/apply-switch.js';
import { actionStartLine, doneLine, isLeftRunning, managerStepLine, summaryLine, verifyLine } from '../execute/outcome-text.js';
import type { ExecuteEvents, ExecutionReport, FleetGate, Outcome } from '../execute/types.js';
import type { SourceKind } from '../generation/types.js';
import type { Plan } from '../plan/types.js';
import { applyJournaled } from '../journal/index.js';
import { installTestPause } from '../journal/test-pause.js';
import { printable } from '../report/printable.js';
import { EXIT } from './exit-codes.js';
import { printableIO, type CliIO } from './io.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import { windowVerdict, type WindowVerdict } from '../fleet/window-gate.js';
import { openFleetSession } from './fleet-cli.js';

/**
 * `restartd apply` exit codes. 0–3 mean what they mean for every command (src/cli/exit-codes.ts);
 * apply adds 4 and 5 so that nothing-to-do, all-ok and some-failed differ:
 * - 0 OK: every action ran (or, with --dry-run, would run) and verified clean; skips are reported;
 * - 2 REBOOT: as 0, and some owner can only be updated by a reboot (a reboot-hint action);
 * - 3 ERROR: bad flags, config, generations, or the bus could not be reached: nothing was done;
 * - 4 NOTHING_TO_DO: no stale process belongs to this manager, or every owner was skipped;
 * - 5 FAILED: some job did not end "done" or timed out, a unit still holds old files after its
 *   restart or reload, the daemon-reload failed, or a registered update-aware app could not be
 *   told; the other actions still ran. Processes that could only be told and did not register
 *   (login sessions, bare processes) are reported "left running", like skips: not a failure.
 * - 6 BUSY: another restartd run holds the state dir's lock (and --wait ran out): nothing was done.
 * - 7 DEFERRED: outside the config's maintenance window (fleet.window): nothing was done; the
 *   switch is recorded as pending (STATE/pending.json, which `restartd hook` carries out, and
 *   STATE/fleet-deferred.json, which `restartd status` shows).
 * With --fleet, etcd unreachable is 3 (nothing done) unless --fleet-optional.
 */
export const APPLY_EXIT = { OK: EXIT.OK, REBOOT: EXIT.REBOOT, ERROR: EXIT.ERROR, NOTHING_TO_DO: EXIT.NOTHING_TO_DO, FAILED: EXIT.FAILED, BUSY: 6, DEFERRED: EXIT.DEFERRED } as const;

export interface ApplyCommandArgs {
  old: string;
  new: string;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  dryRun: boolean;
  json: boolean;
  /** --bus ADDRESS (default DBUS_SYSTEM_BUS_ADDRESS, then the system bus). */
  bus?: string | undefined;
  /** --config PATH (default /etc/restartd/config.json, if present). */
  config?: string | undefined;
  procRoot?: string | undefined;
  /** Override the config's concurrency and jobTimeoutSeconds. */
  concurrency?: number | undefined;
  jobTimeoutMs?: number | undefined;
  /** --state-dir DIR: journal and lock there (the CLI defaults it to /var/lib/restartd); unset: no journal. */
  stateDir?: string | undefined;
  /** --wait SECONDS: how long to wait for another run's lock (default 0: exit BUSY at once). */
  waitSeconds?: number | undefined;
  /** --retry: run again what an earlier run of this switch did but left still stale (after fixing the cause). */
  retry?: boolean | undefined;
  /** --aware-dir DIR (repeatable): update-aware registration dirs (default the system dir and each stale user's). */
  awareDirs?: string[] | undefined;
  /** Where what each registration was last told is kept (default /run/restartd/aware-state). */
  awareStateDir?: string | undefined;
  /** --fleet URL[,URL…] and the other --fleet-* flags (issue 7); absent: a single host. */
  fleet?: FleetArgs | undefined;
}

/** The exit code for an execution report (see APPLY_EXIT). */
export function applyExitCode(report: Pick<ExecutionReport, 'outcomes' | 'managerSteps'>): number {
  const { outcomes, managerSteps } = report;
  // Processes left running (a notify nobody registered for) are reported like skips, not failures.
  if (outcomes.some((o) => !o.ok && !isLeftRunning(o)) || managerSteps.some((s) => !s.ok)) return APPLY_EXIT.FAILED;
  if (outcomes.some((o) => o.action === 'reboot-hint')) return APPLY_EXIT.REBOOT;
  const acted = outcomes.some((o) => o.action !== 'skip' && !isLeftRunning(o));
  return acted || managerSteps.length > 0 ? APPLY_EXIT.OK : APPLY_EXIT.NOTHING_TO_DO;
}

/** Prints each execution event as one line as it happens; warnings go to stderr. */
function renderEvents(events: EventEmitter<ExecuteEvents>, io: CliIO, args: ApplyCommandArgs): void {
  // Every line goes through printable(): unit names, paths and causes come from the system.
  const say = (line: string): void => io.out(`${printable(line)}\n`);
  const warn = (line: string): void => io.err(`restartd: warning: ${printable(line)}\n`);
  events.on('warning', (message) => warn(message));
  events.on('aware:skipped', (file, reason) => warn(`update-aware registration ${file} ignored: ${reason}`));
  if (args.json) return;
  events.on('aware:delivered', (target, via) => say(`told ${target.name} (pid ${target.pid}) by ${via}`));
  events.on('aware:answered', (target, answer) => say(`${target.name} (pid ${target.pid}) answered ${answer.answer}`));
  events.on('aware:timeout', (target) => say(`${target.name} (pid ${target.pid}) did not answer in time`));
  events.on('aware:fallback', (target, fallback, because) => say(`${target.name} (pid ${target.pid}): ${because}; fallback ${fallback}`));
  if (!args.dryRun) events.on('action:start', (action) => say(actionStartLine(action)));
  events.on('manager:done', (step) => say(managerStepLine(step)));
  events.on('action:done', (outcome) => say(doneLine(outcome)));
  events.on('verify:done', (outcome) => {
    const line = verifyLine(outcome);
    if (line !== undefined) say(line);
  });
}

/**
 * `restartd apply --old A --new B [--dry-run] [--json] [--bus ADDRESS] [--config PATH]`: carries
 * the switch out through systemd (see applySwitch) and renders its events as lines, or prints one
 * JSON object with --json. --dry-run prints "would …" from the very same plan.
 */
export async function runApply(args: ApplyCommandArgs, io: CliIO): Promise<number> {
  const config = await loadConfig(args.config);
  // fleet (issue 7): outside the maintenance window nothing is done (a dry run still shows the plan).
  const verdict = args.dryRun ? ({ open: true } as const) : windowVerdict(config.fleet);
  if (!verdict.open) return deferApply(args, verdict, io);
  const events = new EventEmitter<ExecuteEvents>();
  renderEvents(events, io, args);
  // No slots for a dry run; with --fleet, etcd must answer before anything is done.
  const fleet = args.dryRun ? undefined : await openFleetSession(args.fleet, config, events, printableIO(io), { json: args.json, stateDir: args.stateDir });
  try {
    return await applyAndReport(args, config, events, io, fleet?.gate);
  } finally {
    await fleet?.close();
  }
}

async function applyAndReport(args: ApplyCommandArgs, config: Awaited<ReturnType<typeof loadConfig>>, events: EventEmitter<ExecuteEvents>, io: CliIO, gate: FleetGate | undefined): Promise<number> {
  const options = {
    old: args.old,
    new: args.new,
    source: args.source,
    storeDir: args.storeDir,
    config,
    busAddress: args.bus,
    dryRun: args.dryRun,
    concurrency: args.concurrency,
    jobTimeoutMs: args.jobTimeoutMs,
    procRoot: args.procRoot,
    awareDirs: args.awareDirs,
    awareStateDir: args.awareStateDir,
    fleet: gate,
  };
  let applied;
  if (args.stateDir === undefined || args.dryRun) {
    applied = await applySwitch(options, events);
  } else {
    // The crash tests' hook (src/journal/test-pause.ts); inert unless the variable is set.
    installTestPause(events, process.env.RESTARTD_TEST_PAUSE_AFTER, args.stateDir);
    const run = await applyJournaled(options, { stateDir: args.stateDir, waitMs: (args.waitSeconds ?? 0) * 1000, command: 'apply', retry: args.retry === true }, events);
    if (run.kind === 'busy') {
      const who = run.holder === undefined ? 'another restartd run' : `restartd ${run.holder.command} (pid ${run.holder.pid}, since ${run.holder.since})`;
      io.err(`restartd: ${who} holds ${run.lockPath}: nothing done; run again later, or wait with --wait SECONDS\n`);
      return APPLY_EXIT.BUSY;
    }
    applied = run.result;
  }
  const { plan, report, warnings } = applied;
  if (args.stateDir !== undefined && !args.dryRun) {
    const { clearDeferred } = await import('../fleet/fleet-state.js');
    clearDeferred(args.stateDir, args.old, args.new);
  }
  const code = applyExitCode(report);
  if (args.json) io.out(`${JSON.stringify(applyReport(plan, report, args.dryRun, code, warnings), null, 2)}\n`);
  else io.out(`${args.dryRun ? 'dry run: ' : ''}${summaryLine(report.outcomes, report.managerSteps)}\n`);
  return code;
}

/**
 * Outside the maintenance window: nothing is done. The switch is recorded as pending for `restartd
 * hook` (a timer may run it) and as deferred for `restartd status`; exit 7.
 */
async function deferApply(args: ApplyCommandArgs, verdict: Extract<WindowVerdict, { open: false }>, io: CliIO): Promise<number> {
  const nextStart = verdict.nextStart.toISOString();
  if (args.stateDir !== undefined) {
    const { ensureStateDir } = await import('../journal/state-dir.js');
    const { recordPending } = await import('../hook/pending-switch.js');
    const { recordDeferred } = await import('../fleet/fleet-state.js');
    ensureStateDir(args.stateDir);
    recordPending(args.stateDir, { old: args.old, new: args.new, ...(args.source === undefined ? {} : { source: args.source }), ...(args.storeDir === undefined ? {} : { storeDir: args.storeDir }) });
    recordDeferred(args.stateDir, { old: args.old, new: args.new, command: 'apply' }, verdict);
  }
  if (args.json) {
    io.out(`${JSON.stringify({ dryRun: false, exitCode: APPLY_EXIT.DEFERRED, deferred: { window: verdict.window, nextWindowStart: nextStart }, actions: [], outcomes: [] }, null, 2)}
`);
  } else {
    const recorded = args.stateDir === undefined ? '' : `; the switch is recorded as pending in ${args.stateDir} (\`restartd hook\` carries it out in the window)`;
    io.out(`restartd: outside the maintenance window (${verdict.window}): nothing restarted; the window opens next at ${nextStart}${recorded}\n`);
  }
  return APPLY_EXIT.DEFERRED;
}

/** The `restartd apply --json` object. */
export function applyReport(plan: Plan, report: ExecutionReport, dryRun: boolean, exitCode: number, warnings: readonly string[]): Record<string, unknown> {
  const count = (pick: (o: Outcome) => boolean) => report.outcomes.filter(pick).length;
  return {
    dryRun,
    exitCode,
    daemonReload: plan.daemonReload,
    actions: plan.actions,
    summary: {
      ok: count((o) => o.ok && o.action !== 'skip' && o.action !== 'reboot-hint'),
      failed: count((o) => !o.ok && !isLeftRunning(o)),
      skipped: count((o) => o.action === 'skip'),
      leftRunning: count(isLeftRunning),
      rebootHints: count((o) => o.action === 'reboot-hint'),
    },
    outcomes: report.outcomes,
    managerSteps: report.managerSteps,
    warnings,
    durationMs: Math.round(report.durationMs),
  };
}
