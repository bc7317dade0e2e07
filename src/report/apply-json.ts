import { isLeftRunning } from './outcome-text.js';
import type { ExecutionReport, Outcome } from '../types/outcome.js';
import type { Plan } from '../types/plan.js';
import type { RollbackArmed, RolledBack } from '../types/rollback.js';
import type { FleetHeld } from '../types/fleet.js';

/** The `restartd apply --json` object of a run that was carried out (or dry-run). */
export function applyReport(
  plan: Plan,
  report: ExecutionReport,
  dryRun: boolean,
  exitCode: number,
  warnings: readonly string[],
  extras: { rolledBack?: RolledBack | undefined; rollback?: RollbackArmed | undefined; held?: FleetHeld | undefined } = {},
): Record<string, unknown> {
  const { rolledBack, rollback, held } = extras;
  return {
    dryRun,
    exitCode,
    daemonReload: plan.daemonReload,
    actions: plan.actions,
    summary: applySummary(report.outcomes),
    outcomes: report.outcomes,
    managerSteps: report.managerSteps,
    warnings,
    durationMs: Math.round(report.durationMs),
    ...(rollback === undefined ? {} : { rollback }),
    ...(rolledBack === undefined ? {} : { rolledBack }),
    ...(held === undefined ? {} : { held }),
  };
}

/** The counts `restartd apply --json` and the library's `done` result give. */
export interface ApplySummary {
  ok: number;
  failed: number;
  skipped: number;
  leftRunning: number;
  rebootHints: number;
}

export function applySummary(outcomes: readonly Outcome[]): ApplySummary {
  const count = (pick: (o: Outcome) => boolean) => outcomes.filter(pick).length;
  return {
    ok: count((o) => o.ok && o.action !== 'skip' && o.action !== 'reboot-hint'),
    failed: count((o) => !o.ok && !isLeftRunning(o)),
    skipped: count((o) => o.action === 'skip'),
    leftRunning: count(isLeftRunning),
    rebootHints: count((o) => o.action === 'reboot-hint'),
  };
}
