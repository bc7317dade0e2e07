import type { RegistrationStatus } from '../types/aware.js';
import type { FleetStatus } from '../types/fleet.js';
import type { RunSummary } from '../types/runs.js';
import type { InstalledSource, RebootDecision, StatusUser } from '../types/status.js';
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
  /** Update-aware registrations: valid or why not, alive or dead, last told and answer. */
  registrations?: RegistrationStatus[];
  /** The last runs from the journal, newest first. */
  lastRuns?: RunSummary[];
  /** What the plan could not know (no unit facts and why, ignored registrations). */
  warnings?: string[];
  /** A switch deferred to the maintenance window, and the slots a live run waits for or holds. */
  fleet?: FleetStatus;
  /** Stale processes by user: their units (through their own manager) and session apps; absent when no user's process is stale. */
  users?: StatusUser[];
}

/** The StaleReport plus the status sections; empty optional sections are left out. Pure. */
export function buildStatusReport(
  stale: StaleReport,
  sections: { reboot: RebootDecision; installed?: InstalledSource[] | undefined; registrations?: RegistrationStatus[] | undefined; lastRuns?: RunSummary[] | undefined; fleet?: FleetStatus | undefined; users?: StatusUser[] | undefined },
): StatusReport {
  return {
    ...stale,
    reboot: sections.reboot,
    ...(sections.installed && sections.installed.length > 0 ? { installed: sections.installed } : {}),
    ...(sections.registrations ? { registrations: sections.registrations } : {}),
    ...(sections.lastRuns ? { lastRuns: sections.lastRuns } : {}),
    ...(sections.fleet === undefined ? {} : { fleet: sections.fleet }),
    ...(sections.users && sections.users.length > 0 ? { users: sections.users } : {}),
  };
}
