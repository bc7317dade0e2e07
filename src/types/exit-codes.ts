/**
 * restartd's one exit-code table. `status` uses nagios levels (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN) so monitoring can run it as a check; the switch commands (apply, hook, watch) add
 * their own outcomes above 3. Every command maps its result to a code here, nowhere else.
 */
export const EXIT = {
  OK: 0,
  /** status: restarts (or a daemon-reexec) needed; plan: stale processes found. */
  STALE: 1,
  /** status: a reboot or soft-reboot is needed; apply: done, but an owner needs a reboot. */
  REBOOT: 2,
  /** Bad input or an error before anything ran (the message names the input). */
  ERROR: 3,
  /** apply: nothing to do. */
  NOTHING_TO_DO: 4,
  /** apply, hook: some action failed, timed out, or left its unit stale or dead after its restart (the others still ran). */
  FAILED: 5,
  /** apply: another run holds the state dir's lock: nothing done. */
  BUSY: 6,
  /** apply: outside the maintenance window: nothing done, the switch pending. */
  DEFERRED: 7,
  /** apply, hook: restarts onto the new generation failed; rolled back to the old one (verified). */
  ROLLED_BACK: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each code means per command, for --help and the man page (one row per code). */
export const EXIT_MEANINGS: readonly { code: ExitCode; status?: string; plan?: string; apply?: string; hook?: string }[] = [
  { code: EXIT.OK, status: 'OK: nothing to do', plan: 'nothing stale', apply: 'all done and verified', hook: 'done, queued, suspended, deferred or continuing detached' },
  { code: EXIT.STALE, status: 'WARNING: restarts (or a daemon-reexec) needed', plan: 'stale processes found' },
  { code: EXIT.REBOOT, status: 'CRITICAL: a reboot or soft-reboot is needed', apply: 'done, but an owner needs a reboot' },
  { code: EXIT.ERROR, status: 'UNKNOWN: error, or the scan could not see enough to judge (not root)', plan: 'error', apply: 'error before anything ran', hook: 'bad input (or etcd unreachable with --fleet)' },
  { code: EXIT.NOTHING_TO_DO, apply: 'nothing to do' },
  { code: EXIT.FAILED, apply: 'some action failed, timed out, or left its unit stale or dead after its restart (the others still ran)', hook: 'some action failed' },
  { code: EXIT.BUSY, apply: 'another run holds the state dir\'s lock: nothing done' },
  { code: EXIT.DEFERRED, apply: 'deferred: outside the maintenance window, nothing done, the switch pending' },
  { code: EXIT.ROLLED_BACK, apply: 'rolled back: a restart onto NEW failed; --link points at OLD again and the units the run restarted run OLD (verified)', hook: 'a pending switch was rolled back' },
];
