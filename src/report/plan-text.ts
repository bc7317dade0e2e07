import { printableLines } from '../report/printable.js';
import type { Plan, PlannedAction } from '../types/plan.js';

export interface PlanTextOptions {
  /** Say "would restart …": the plan is shown, not carried out. */
  dryRun: boolean;
}

/**
 * The plan for people, one line per action in the order they run:
 * `would restart nginx.service (3 processes): holds deleted /usr/lib/libssl.so.3` (dry run) or
 * `restart nginx.service (3 processes): …`. A policy reason other than the default follows a " — ";
 * skips show their code and why.
 */
export function renderPlanText(plan: Plan, options: PlanTextOptions): string {
  const would = options.dryRun ? 'would ' : '';
  const lines: string[] = [];
  let reloadShown = false;
  const showReloads = (): void => {
    if (reloadShown) return;
    reloadShown = true;
    if (plan.daemonReload) lines.push(`${would}daemon-reload the system manager (unit files changed)`);
    for (const uid of plan.userDaemonReloads ?? []) lines.push(`${would}daemon-reload the user manager of uid ${uid} (unit files changed)`);
  };
  for (const action of plan.actions) {
    // The daemon-reloads close their phase: after the stops and the re-executions.
    if (action.phase !== 'stop' && action.phase !== 'daemon-reload') showReloads();
    lines.push(actionLine(action, would));
  }
  showReloads();
  if (lines.length === 0) return 'nothing to do: no stale processes\n';
  return printableLines(lines);
}

function actionLine(action: PlannedAction, would: string): string {
  const subject = `${target(action)} (${action.pids.length} process${action.pids.length === 1 ? '' : 'es'})`;
  const evidence = action.evidence === undefined ? '' : `: ${action.evidence}`;
  const sockets = action.sockets === undefined ? '' : `; sockets ${action.sockets.join(', ')}`;
  switch (action.action) {
    case 'skip':
      return `${would}skip ${subject}${evidence} — ${action.reason}${action.detail === undefined ? '' : `: ${action.detail}`}`;
    case 'reboot-hint':
      return `reboot needed for ${subject}${evidence} — ${action.reason}`;
    default: {
      const why = action.reason === 'default' ? '' : ` — ${action.reason}`;
      return `${would}${verb(action)} ${subject}${evidence}${sockets}${why}`;
    }
  }
}

function verb(action: PlannedAction): string {
  if (action.action === 'stop-start') return action.phase === 'start' ? 'start' : 'stop';
  return action.action;
}

function target(action: PlannedAction): string {
  const { owner } = action;
  if (owner.kind === 'pid1') return 'PID 1';
  if (owner.kind === 'user-unit' && action.userManager) return `${action.unit ?? owner.name} of uid ${action.userManager.uid}`;
  return action.unit ?? owner.name;
}
