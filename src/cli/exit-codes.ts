/**
 * restartd's exit codes, nagios-style so monitoring can use `restartd status` as a check:
 * 0 nothing stale, 1 stale processes (restarts needed), 2 reboot needed, 3 error (bad input, usage).
 * `apply` adds 4 (nothing to do) and 5 (some action failed), see APPLY_EXIT.
 */
export const EXIT = {
  OK: 0,
  STALE: 1,
  REBOOT: 2,
  ERROR: 3,
  NOTHING_TO_DO: 4,
  FAILED: 5,
} as const;
