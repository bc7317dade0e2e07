import { isLeftRunning } from '../report/outcome-text.js';
import type { ExecutionReport } from '../types/outcome.js';
import type { RolledBack } from '../types/rollback.js';
import { EXIT, type ExitCode } from '../types/exit-codes.js';

/**
 * The exit code of a finished switch run:
 * - 0 every action ran (or, with a dry run, would run) and verified clean; skips are reported;
 * - 2 as 0, and some owner can only be updated by a reboot (a reboot-hint action);
 * - 4 no stale process belongs to this manager, or every owner was skipped;
 * - 5 some job did not end "done" or timed out, a unit still holds old files after its restart or
 *   reload, the daemon-reload failed, or a registered update-aware app could not be told; the
 *   other actions still ran. Processes that could only be told and did not register (login
 *   sessions, bare processes) are "left running", like skips: not a failure;
 * - 8 a restart onto the new generation failed and the run rolled back (verified); a rollback that
 *   failed itself is 5; 8 too when another host of the fleet rolled the same new generation back
 *   and this run stopped before its first restart (`held`).
 */
export function applyExitCode(report: Pick<ExecutionReport, 'outcomes' | 'managerSteps'>, rolledBack?: Pick<RolledBack, 'ok'>, held?: unknown): ExitCode {
  if (rolledBack !== undefined) return rolledBack.ok ? EXIT.ROLLED_BACK : EXIT.FAILED;
  // fleet: another host rolled this release back; this one stopped before its first restart.
  if (held !== undefined) return EXIT.ROLLED_BACK;
  const { outcomes, managerSteps } = report;
  if (outcomes.some((o) => !o.ok && !isLeftRunning(o)) || managerSteps.some((s) => !s.ok)) return EXIT.FAILED;
  if (outcomes.some((o) => o.action === 'reboot-hint')) return EXIT.REBOOT;
  const acted = outcomes.some((o) => o.action !== 'skip' && !isLeftRunning(o));
  return acted || managerSteps.length > 0 ? EXIT.OK : EXIT.NOTHING_TO_DO;
}
