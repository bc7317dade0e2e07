import type { StaleProcess } from '../match/types.js';
import { awareDirsFor } from './aware-dirs.js';
import { readIdentity } from './proc-identity.js';
import { readRegistrations } from './read-registrations.js';
import { judgeTarget } from './trust.js';

export interface FindAwareOptions {
  /** Registration dirs (default: the system dir and the runtime dir of each stale process's user). */
  dirs?: string[] | undefined;
  procRoot?: string | undefined;
}

/**
 * The stale processes that registered as update-aware, for the plan (pid → registered name): a
 * registration counts when its file passes readRegistrations' checks, it names the process by pid
 * and start time, and judgeTarget trusts it (not PID 1, not a kernel thread, not another user's
 * process). Files skipped are reported through `onSkipped`. The notify phase reads and checks
 * everything again right before telling, so a registration changed in between is judged afresh.
 */
export async function findUpdateAware(
  stale: readonly StaleProcess[],
  options: FindAwareOptions = {},
  onSkipped: (file: string, reason: string) => void = () => {},
): Promise<Map<number, string>> {
  const aware = new Map<number, string>();
  if (stale.length === 0) return aware;
  const byPid = new Map(stale.map((p) => [p.pid, p]));
  for (const dir of options.dirs ?? awareDirsFor(stale.map((p) => p.uid))) {
    const scan = await readRegistrations(dir);
    for (const { file, reason } of scan.skipped) onSkipped(file, reason);
    for (const { registration, fileUid } of scan.registrations) {
      const proc = byPid.get(registration.pid);
      if (proc === undefined || proc.startTime !== registration.startTime) continue;
      const verdict = judgeTarget(registration, fileUid, await readIdentity(registration.pid, options.procRoot));
      if (verdict.trusted) aware.set(proc.pid, registration.name);
    }
  }
  return aware;
}
