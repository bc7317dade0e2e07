import type { StaleProcess } from '../types/stale.js';
import { awareDirsFor } from './aware-dirs.js';
import { readIdentity } from './proc-identity.js';
import { indexRegistrations } from './notifier.js';
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
  const index = await indexRegistrations(options.dirs ?? awareDirsFor(stale.map((p) => p.uid)), onSkipped);
  for (const proc of stale) {
    const mine = (index.get(proc.pid) ?? []).filter((r) => r.registration.startTime === proc.startTime);
    if (mine.length === 0) continue;
    const identity = await readIdentity(proc.pid, options.procRoot);
    const trusted = mine.find((r) => judgeTarget(r.registration, r.fileUid, identity).trusted);
    if (trusted !== undefined) aware.set(proc.pid, trusted.registration.name);
  }
  return aware;
}
