import type { UserNotified } from './aware.js';

/** The running kernel and the kernels installed, as far as they could be read. */
export interface KernelFacts {
  /** The running kernel's release (`uname -r`); undefined when it could not be read. */
  running?: string;
  /** Releases installed: one entry per `<modulesDir>/<release>` directory found. */
  installed: Array<{ release: string; from: string }>;
}

/** Pieces every process (or the whole session) depends on: stale ones make restarts unit by unit pointless. */
export type SystemPiece = 'libc' | 'dynamic-loader' | 'libsystemd' | 'systemd' | 'dbus';

/** Why a tier was chosen. Every finding is listed, not only the one that decided the tier. */
export type RebootReason =
  | { code: 'kernel-changed'; running: string; newest: string; from: string }
  | { code: 'pid1-stale'; pid: number; files: string[] }
  | { code: 'system-wide-stale'; piece: SystemPiece; pids: number[]; files: string[] }
  | { code: 'processes-stale'; processes: number; owners: number }
  /**
   * Owners the plan will not restart because nothing short of a reboot refreshes them safely: its
   * action is reboot-hint, or the unit is protected. No apply clears them.
   */
  | { code: 'owners-need-reboot'; owners: Array<{ name: string; action: 'reboot-hint' | 'protected-unit' }>; processes: number };

/**
 * What it takes to get every process onto the installed files, least to most disruptive:
 * nothing; restarts (restartd's plan); `systemctl daemon-reexec` (PID 1 holds old files);
 * `systemctl soft-reboot` (libc, the loader, libsystemd, dbus or a user manager is stale, the kernel is not);
 * a reboot (another kernel is installed than the one running).
 */
export type RebootTier = 'none' | 'restarts' | 'daemon-reexec' | 'soft-reboot' | 'reboot';

export interface RebootDecision {
  tier: RebootTier;
  reasons: RebootReason[];
  kernel: { status: 'unchanged' | 'changed' | 'unknown'; running?: string; newest?: string };
}

/** How a generation source lays out its generations. */
export type GenerationSourceKind = 'nix-profile' | 'release-dir' | 'deployments';

/** One installed generation and what it costs on disk. Sizes: bytes of regular files, once per inode. */
export interface InstalledGeneration {
  /** `42` for `system-42-link`, the directory name otherwise. */
  name: string;
  path: string;
  current: boolean;
  /** Present only when knowable (nix: /run/booted-system; deployments: the root's device and inode). */
  booted?: boolean;
  /** Bytes of the distinct inodes of this generation. */
  bytes?: number;
  /** Bytes of inodes no other listed generation references: what removing it would free. */
  uniqueBytes?: number;
  /** Bytes of inodes the current generation references too. */
  sharedWithCurrentBytes?: number;
  /** nix: store paths in the closure, and those not in the current closure. */
  storePaths?: number;
  storePathsNotInCurrent?: number;
  /** Why this generation could not be measured. */
  error?: string;
}

/** One configured or detected source and its generations, by profile number or name. */
export interface InstalledSource {
  kind: GenerationSourceKind;
  path: string;
  generations: InstalledGeneration[];
  /** Bytes of inodes referenced by some generation but not the current one: what removing all the others would free. */
  reclaimableBytes?: number;
}

/** What happens to a user's stale unit or app: restarted (reloaded) through their manager, told, left running, or skipped. */
export type UserFate = 'restart' | 'tell' | 'leave-running' | 'skip';

/** One user with stale processes, and what happens to each (`restartd status --json` `users`). */
export interface StatusUser {
  uid: number;
  /** The account's name, when the passwd database knows the uid. */
  name?: string;
  /** The user's own systemd manager: reached (running) or not (absent, with why). */
  manager: 'running' | 'absent';
  managerReason?: string;
  /** The user's units (user@UID.service's) with stale processes, and the plan's action for each. */
  units: Array<{ unit: string; action: string; reason: string; pids: number[]; fate: UserFate }>;
  /** Stale processes of the user's login sessions and bare processes: told or left running. */
  sessionApps: Array<{ pid: number; comm: string; owner: string; fate: UserFate }>;
  /** What the user was told for the last switch that told them (when, on which channels), from the journal. */
  notified?: UserNotified;
}
