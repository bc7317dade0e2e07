import { jsonText, printable } from '../report/printable.js';
import { EventEmitter } from 'eventemitter3';
import { RestartdError } from '../errors.js';
import { renderPlanText } from '../report/plan-text.js';
import { renderStaleText } from '../report/stale-text.js';
import type { RunEvents } from '../run/events.js';
import type { RunRequest } from '../run/request.js';
import { createProgress, type Progress, type ProgressStream } from '../status/progress.js';
import { runStatus as collect } from '../run/status-run.js';
import { runPlan } from '../run/plan-run.js';
import { EXIT } from '../types/exit-codes.js';
import type { CliIO } from './io.js';
import { renderRunEvents } from './render-events.js';

/** `restartd status`'s options (the library's StatusRequest, with the CLI's names and output). */
export interface StatusCommandArgs {
  json: boolean;
  /** --prometheus: node_exporter textfile-collector format instead of text. */
  prometheus?: boolean | undefined;
  procRoot?: string | undefined;
  config?: string | undefined;
  generations?: string[] | undefined;
  modulesDirs?: string[] | undefined;
  storeDir?: string | undefined;
  bootedSystem?: string | undefined;
  bootedRoot?: string | undefined;
  /** Colour the human report; default: stdout is a TTY and NO_COLOR is unset. */
  colour?: boolean | undefined;
  bus?: string | undefined;
  stateDir?: string | undefined;
  awareDirs?: string[] | undefined;
  awareStateDir?: string | undefined;
  /** Where progress goes on a long run (only drawn on a terminal); default stderr. */
  progress?: ProgressStream | undefined;
}

/**
 * `restartd status`: the library's status run (src/run/status-run.ts) as text, JSON or Prometheus.
 * Exit 0 nothing to do, 1 restarts (or a daemon-reexec) needed, 2 a (soft-)reboot needed, 3 an
 * error or a blind scan (not root) that saw nothing to do.
 */
export async function runStatus(args: StatusCommandArgs, io: CliIO): Promise<number> {
  if (args.json && args.prometheus) throw new RestartdError('USAGE', 'status: --json and --prometheus exclude each other');
  const progress = createProgress(args.progress ?? io.progress ?? { isTTY: false, write: () => true });
  try {
    return await statusWithProgress(args, io, progress);
  } finally {
    progress.done();
  }
}

async function statusWithProgress(args: StatusCommandArgs, io: CliIO, progress: Progress): Promise<number> {
  const events = new EventEmitter<RunEvents>();
  renderRunEvents(events, io, { json: true });
  const { report, plan, exitCode, blind } = await collect(
    {
      procRoot: args.procRoot,
      config: args.config,
      generations: args.generations,
      modulesDirs: args.modulesDirs,
      storeDir: args.storeDir,
      bootedSystem: args.bootedSystem,
      bootedRoot: args.bootedRoot,
      busAddress: args.bus,
      stateDir: args.stateDir,
      awareDirs: args.awareDirs,
      awareStateDir: args.awareStateDir,
      onPhase: (phase) => progress.phase(phase),
    },
    events,
  );
  progress.done();
  if (args.prometheus) {
    const { renderPrometheus } = await import('../report/prometheus.js');
    io.out(renderPrometheus(report, exitCode));
    return exitCode;
  }
  if (args.json) {
    io.out(jsonText(report));
    return exitCode;
  }
  const [{ renderStatusText }, { wantsColour }, { registrationsSection, lastRunsSection, fleetSection }, { printableLines }, { userLines }] = await Promise.all([
    import('../report/status-text.js'),
    import('../status/colour.js'),
    import('../report/status-sections.js'),
    import('../report/printable.js'),
    import('../report/status-users.js'),
  ]);
  const sections = [
    ...(report.users === undefined ? [] : [{ title: `users with stale processes: ${report.users.length}`, lines: userLines(report.users) }]),
    registrationsSection(report.registrations ?? []),
    lastRunsSection(report.lastRuns ?? []),
    fleetSection(report.fleet ?? { waiting: [], holding: [] }),
  ];
  const notes: string[] = [];
  if (blind) notes.push(...(report.warnings ?? []).filter((warning) => warning.startsWith('not run as root')));
  for (const warning of report.warnings ?? []) if (warning.startsWith('no unit facts')) notes.push(`${warning}: system units are planned unit-unknown`);
  if (report.stale.length > 0) notes.push('to act on this plan: restartd apply (see it first: restartd apply --dry-run)');
  const planText = plan !== undefined && plan.actions.length > 0 ? `\n${renderPlanText(plan, { dryRun: true })}` : '';
  const tail = notes.length > 0 ? `\n${printableLines(notes)}` : '';
  io.out(renderStatusText(report, { colour: args.colour ?? wantsColour(io.isTTY === true, io.env ?? {}), sections, blind }) + planText + tail);
  return exitCode;
}

/** `restartd plan`: the library's plan run, printed; exit 1 when something is stale, else 0. */
export async function runPlanCommand(request: RunRequest, json: boolean, io: CliIO): Promise<number> {
  const events = new EventEmitter<RunEvents>();
  renderRunEvents(events, io, { json: true });
  const { report, plan } = await runPlan(request, events);
  const planText = plan.actions.length > 0 ? `\n${renderPlanText(plan, { dryRun: true })}` : '';
  const { rollbackArmedLine } = await import('../report/rollback-text.js');
  const armed = report.rollback === undefined ? '' : `${printable(rollbackArmedLine(report.rollback))}\n`;
  io.out(json ? jsonText(report) : renderStaleText(report) + planText + armed);
  return report.stale.length > 0 ? EXIT.STALE : EXIT.OK;
}
