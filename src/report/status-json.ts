import type { InstalledSource, RebootDecision } from '../status/types.js';
import type { StaleReport } from './stale-json.js';

/**
 * The JSON document `restartd status --json` prints (schemas/status.schema.json): the StaleReport
 * (its `stale`, `owners`, `scanned` unchanged) plus the reboot tier and the installed generations.
 * `generations` stays the plan's old → new summary, so the lists of generations are `installed`.
 */
export interface StatusReport extends StaleReport {
  reboot: RebootDecision;
  /** One entry per generation source (configured or detected); absent when there is none. */
  installed?: InstalledSource[];
  /** Update-aware registrations (src/aware); absent until that section is wired in. */
  registrations?: unknown[];
  /** The last runs from the journal (src/journal); absent until that section is wired in. */
  lastRuns?: unknown[];
  /** What the plan could not know (no unit facts and why, ignored registrations). */
  warnings?: string[];
  /** A switch deferred to the maintenance window, and the slots a live run waits for or holds. */
  fleet?: unknown;
}

/** The StaleReport plus the status sections; empty optional sections are left out. Pure. */
export function buildStatusReport(
  stale: StaleReport,
  sections: { reboot: RebootDecision; installed?: InstalledSource[] | undefined; registrations?: unknown[] | undefined; lastRuns?: unknown[] | undefined; fleet?: unknown },
): StatusReport {
  return {
    ...stale,
    reboot: sections.reboot,
    ...(sections.installed && sections.installed.length > 0 ? { installed: sections.installed } : {}),
    ...(sections.registrations ? { registrations: sections.registrations } : {}),
    ...(sections.lastRuns ? { lastRuns: sections.lastRuns } : {}),
    ...(sections.fleet === undefined ? {} : { fleet: sections.fleet }),
  };
}
