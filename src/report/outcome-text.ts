import type { PlannedAction } from '../types/plan.js';
import { DONE_BY_INTERRUPTED_RUN, isAlreadyDone, type ManagerStep, type Outcome } from '../types/outcome.js';

// One line per execution event, for people. Pure. E.g. `restarting foo.service…`,
// `restarted foo.service (MainPID 41 -> 57) in 23 ms`, `FAILED bar.service: job result failed`,
// `would restart foo.service (2 processes)`.

const ING: Record<string, string> = { restart: 'restarting', reload: 'reloading', stop: 'stopping', start: 'starting', 'daemon-reexec': 're-executing', notify: 'notifying' };
const ED: Record<string, string> = { restart: 'restarted', reload: 'reloaded', stop: 'stopped', start: 'started', 'daemon-reexec': 're-executed' };

/** The systemd verb of an action: a stop-start is "stop" in phase stop and "start" in phase start. */
function verbOf(action: Pick<PlannedAction, 'action' | 'phase'>): string {
  if (action.action === 'stop-start') return action.phase === 'start' ? 'start' : 'stop';
  return action.action;
}

function subject(target: Pick<PlannedAction, 'unit' | 'owner'>): string {
  if (target.owner.kind === 'pid1') return 'PID 1';
  return target.unit ?? target.owner.name;
}

function processes(n: number): string {
  return `${n} process${n === 1 ? '' : 'es'}`;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

export function actionStartLine(action: PlannedAction): string {
  return `${ING[verbOf(action)] ?? verbOf(action)} ${subject(action)}…`;
}

/**
 * A notify whose processes did not register as update-aware: nothing could be told, and by policy
 * nothing is killed (a login session, a bare process). Like a skip, this is reported, not a failure.
 */
export function isLeftRunning(outcome: Outcome): boolean {
  return outcome.code === 'NOTIFY_UNAVAILABLE';
}

/** An outcome as its run reports it: "already done: …" for what an interrupted run of the switch did. */
export function doneLine(outcome: Outcome): string {
  if (isAlreadyDone(outcome)) return `already done: ${outcome.action} ${outcome.unit}`;
  // A job an interrupted run submitted: it ran (or was waited for), and is not submitted again.
  if (outcome.ok && outcome.detail?.startsWith(DONE_BY_INTERRUPTED_RUN) === true) return `already done: ${outcome.action} ${outcome.unit} (${outcome.detail})`;
  return outcomeLine(outcome);
}

export function outcomeLine(outcome: Outcome): string {
  const name = subject(outcome);
  const verb = verbOf(outcome);
  const why = outcome.detail === undefined ? outcome.reason : `${outcome.reason}: ${outcome.detail}`;
  if (outcome.action === 'skip') return `${outcome.dryRun ? 'would skip' : 'skipped'} ${name} (${processes(outcome.pids.length)}): ${why}`;
  if (outcome.action === 'reboot-hint') return `reboot needed for ${name} (${processes(outcome.pids.length)}): ${why}`;
  if (isLeftRunning(outcome)) return `left running ${name} (${processes(outcome.pids.length)}): ${outcome.cause ?? 'not update-aware'}`;
  if (!outcome.ok) return `FAILED ${name}: ${failureText(outcome)}${journalText(outcome)}`;
  if (outcome.dryRun) {
    const sockets = outcome.sockets === undefined ? '' : ` and ${outcome.sockets.map((s) => s.unit).join(', ')}`;
    return `would ${verb} ${name}${sockets} (${processes(outcome.pids.length)})`;
  }
  return `${ED[verb] ?? verb} ${name}${mainPidText(outcome)} in ${ms(outcome.durationMs)}`;
}

function mainPidText(outcome: Outcome): string {
  const pids = outcome.mainPid;
  if (pids === undefined || (pids.before === 0 && pids.after === 0)) return '';
  if (verbOf(outcome) === 'stop') return ` (MainPID was ${pids.before})`;
  if (pids.before === pids.after) return ` (MainPID ${pids.after})`;
  return ` (MainPID ${pids.before} -> ${pids.after})`;
}

/** The first lines a failed unit logged, indented under its FAILED line. */
function journalText(outcome: Outcome): string {
  return (outcome.journal ?? []).map((line) => `\n    | ${line}`).join('');
}

function failureText(outcome: Outcome): string {
  if (outcome.code === 'JOB_FAILED') return `job result ${outcome.jobResult}`;
  return outcome.cause ?? outcome.code ?? 'failed';
}

export function managerStepLine(step: ManagerStep): string {
  const what = `${step.step}${step.uid === undefined ? '' : ` of the user manager of uid ${step.uid}`}`;
  if (step.dryRun) return `would ${what}${step.ok ? '' : ` (would fail: ${step.cause ?? 'failed'})`}`;
  return step.ok ? `${what} done in ${ms(step.durationMs)}` : `FAILED ${what}: ${step.cause ?? 'failed'}`;
}

/** After verify: a line only for units that still hold old files. */
export function verifyLine(outcome: Outcome): string | undefined {
  if (outcome.stillStale === undefined) return undefined;
  return `STILL STALE ${subject(outcome)}: ${outcome.cause ?? ''}`;
}

/** Counts for the closing line: `3 restarted, 1 reloaded, 2 skipped, 1 failed`. */
export function summaryLine(outcomes: readonly Outcome[], steps: readonly ManagerStep[]): string {
  if (outcomes.length === 0 && steps.length === 0) return 'nothing to do: no stale processes';
  const counts = new Map<string, number>();
  const add = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  for (const o of outcomes) {
    if (o.action === 'skip') add(o.dryRun ? 'would skip' : 'skipped');
    else if (o.action === 'reboot-hint') add('need a reboot');
    else if (isLeftRunning(o)) add('left running');
    else if (!o.ok) add(o.dryRun ? 'would fail' : 'failed');
    else add(o.dryRun ? `would ${verbOf(o)}` : (ED[verbOf(o)] ?? verbOf(o)));
  }
  for (const s of steps) if (!s.ok) add('failed');
  return [...counts].map(([key, n]) => `${n} ${key}`).join(', ');
}
