import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import type { SourceKind } from '../types/generation.js';

/**
 * What a run is asked to do, declared once: the library's `apply`, `plan`, `status` and `hook`
 * take it, and the CLI fills it from its flags (same names: `--state-dir` is `stateDir`).
 * Without `old` and `new`, the run acts on the live scan (deleted and replaced files,
 * interpreted programs): the same stale processes `restartd status` shows.
 */
export interface RunRequest {
  old?: string | undefined;
  new?: string | undefined;
  source?: SourceKind | undefined;
  storeDir?: string | undefined;
  /** A parsed config, or the path of one (default /etc/restartd/config.json if present). */
  config?: Config | string | undefined;
  /** systemd's bus (default DBUS_SYSTEM_BUS_ADDRESS, then the system bus). */
  busAddress?: string | undefined;
  /** Journal, lock, pending and deferred switches; unset: no journal, no lock (the library's default). */
  stateDir?: string | undefined;
  /** Update-aware registration dirs (default the system dir and each user's). */
  awareDirs?: string[] | undefined;
  /** Where what each registration was last told is kept (default STATE/aware-state, without a state dir /run/restartd/aware-state). */
  awareStateDir?: string | undefined;
  /** Read processes from this dir instead of /proc. */
  procRoot?: string | undefined;
  /** Deleted files under these dirs are scratch, not installed software (default: the config's, else /tmp, /var, /run, /dev/shm). */
  scratchDirs?: readonly string[] | undefined;
  /** Print-only: every outcome says what would be done (no lock, no journal, no bus needed). */
  dryRun?: boolean | undefined;
  /** Run again what an earlier run of the same switch did but left still stale. */
  retry?: boolean | undefined;
  /** How long to wait for another run's lock (default 0: busy at once). */
  waitMs?: number | undefined;
  /** etcd fleet coordination (`--fleet` and the `--fleet-*` flags); absent: a single host. */
  fleet?: FleetArgs | undefined;
  /**
   * The current/profile link that points at `new` (a release dir's `current`, a Nix profile link):
   * what a rollback flips back to `old`. `watch` sets it to the link it follows.
   */
  link?: string | undefined;
  /**
   * Opt-in: a restart, reload or start of this run failed → flip `link` back to `old` and restart
   * onto it every unit the run restarted (exit 8). Default: the config's `rollback.on`. Needs
   * `old`, `new` and `link`.
   */
  rollback?: boolean | undefined;
  /** Override the config's concurrency and jobTimeoutSeconds. */
  concurrency?: number | undefined;
  jobTimeoutMs?: number | undefined;
  /** Who runs (named in the lock file and the deferred record). */
  command?: 'apply' | 'hook' | 'watch' | 'library' | undefined;
}

/** Where a run keeps what it told each update-aware registration: beside its journal, so a test's or a second instance's state dir holds all of its state. */
export function awareStateDirOf(request: Pick<RunRequest, 'awareStateDir' | 'stateDir'>): string | undefined {
  return request.awareStateDir ?? (request.stateDir === undefined ? undefined : join(request.stateDir, 'aware-state'));
}

/** The one word for "no generations given: the live scan" in journals, records and reports. */
export const LIVE = 'live';
