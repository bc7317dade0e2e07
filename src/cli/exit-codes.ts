/**
 * restartd's exit codes, nagios-style so monitoring can use `restartd status` as a check:
 * 0 nothing stale, 1 stale processes (restarts needed), 2 reboot needed, 3 error (bad input, usage).
 * `apply` adds 4 (nothing to do) and 5 (some action failed), see APPLY_EXIT; 6 (busy) and 7
 * (deferred: outside the maintenance window) are apply's too.
 */
export const EXIT = {
  OK: 0,
  STALE: 1,
  REBOOT: 2,
  ERROR: 3,
  NOTHING_TO_DO: 4,
  FAILED: 5,
  /** apply: outside the config's maintenance window (fleet.window): nothing done, the switch recorded as pending. */
  DEFERRED: 7,
} as const;
