import type { Outcome } from './outcome.js';

/**
 * What a run rolls back when restarts onto the new generation failed: `link` is flipped from `from`
 * (the new generation) back to `to` (the old one), or, for generations only the system's own tool
 * can switch, `command` runs; then `units` (every unit the run restarted onto the new one, the
 * failed and the healthy) are restarted onto the old one.
 */
export interface RollbackIntent {
  link?: string | undefined;
  /** The config's rollback.command (an argv, run without a shell; RESTARTD_OLD, RESTARTD_NEW set). */
  command?: string[] | undefined;
  from: string;
  to: string;
  /** The failures that caused it, in words ("b.service JOB_FAILED: …; …"). */
  reason: string;
  units: string[];
  /** Users' own units the run put onto the new generation: restarted onto the old one through their user's manager. */
  userUnits?: UserUnitRef[] | undefined;
}

/** A user's unit: restarted through that user's own manager (user@UID.service). */
export interface UserUnitRef {
  uid: number;
  unit: string;
}

/** A rollback carried out (`apply --json`'s `rolledBack`, the library's done result). */
export interface RolledBack extends RollbackIntent {
  /** The link points at `to` again and every unit runs its files (verified by a re-scan). */
  ok: boolean;
  /** Not ok: the rollback itself failed; nothing further was tried. */
  code?: 'ROLLBACK_FAILED';
  /** Not ok: both failures' causes, the switch's and the rollback's. */
  cause?: string;
  /** The restarts onto the old generation, after verify. */
  outcomes: Outcome[];
  /**
   * Set when an earlier run of the same switch finished this rollback (ISO time it finished): this
   * run only reported it, and restarted nothing. `--retry` starts the switch afresh.
   */
  earlier?: string;
}

/**
 * A rollback armed for a run (`apply --dry-run --json`'s and `plan --json`'s `rollback`): what would
 * happen if a restart, reload or start onto `from` (the new generation) failed.
 */
export interface RollbackArmed {
  /** The link that would be flipped back from `from` to `to`. */
  link?: string | undefined;
  /** The config's rollback.command, which would run instead of a flip. */
  command?: string[] | undefined;
  from: string;
  to: string;
  /** The units the plan puts onto the new generation: those a rollback would restart onto the old one. */
  units: string[];
  /** The same for users' own units (through their user's manager). */
  userUnits?: UserUnitRef[] | undefined;
}
