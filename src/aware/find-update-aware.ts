import { lstatSync } from 'node:fs';
import type { StaleProcess } from '../types/stale.js';
import { awareDirsFor } from './aware-dirs.js';
import { readIdentity } from './proc-identity.js';
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
  // A missing dir holds no registration: without any, the reader (and zod) is never loaded.
  const dirs = (options.dirs ?? awareDirsFor(stale.map((p) => p.uid))).filter((dir) => !isMissing(dir));
  if (dirs.length === 0) return aware;
  const { indexRegistrations } = await import('./notifier.js');
  const index = await indexRegistrations(dirs, onSkipped);
  for (const proc of stale) {
    const mine = (index.get(proc.pid) ?? []).filter((r) => r.registration.startTime === proc.startTime);
    if (mine.length === 0) continue;
    const identity = await readIdentity(proc.pid, options.procRoot);
    const trusted = mine.find((r) => judgeTarget(r.registration, r.fileUid, identity).trusted);
    if (trusted !== undefined) aware.set(proc.pid, trusted.registration.name);
  }
  return aware;
}

/** The dir is certainly absent (ENOENT); any other failure is left for the reader to report. */
function isMissing(dir: string): boolean {
  try {
    return lstatSync(dir, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}
