import { isLeftRunning } from './outcome-text.js';
import type { ExecutionReport, Outcome } from '../types/outcome.js';
import type { Plan } from '../types/plan.js';

/** The `restartd apply --json` object of a run that was carried out (or dry-run). */
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
