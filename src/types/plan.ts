import type { Owner } from './owner.js';

/** What restartd does for one owner. See DESIGN.md "Policy -> Action". */
export type ActionKind = 'restart' | 'reload' | 'stop-start' | 'notify' | 'daemon-reexec' | 'skip' | 'reboot-hint';

/** The actions a unit may ask for with `X-Restartd-Action=`, and a config file with `units[].action`. */
export const UNIT_ACTIONS = ['restart', 'reload', 'stop-start', 'notify', 'skip'] as const;
export type UnitAction = (typeof UNIT_ACTIONS)[number];

/** Why an owner is skipped: literal codes, so tools and tests can match them. */
export type SkipReason =
  | 'refuse-manual-stop'
  /** RefuseManualStart=yes (or CanStart=no): a restart would stop it and systemd would refuse the start. */
  | 'refuse-manual-start'
  /** NixOS' X-OnlyManualStart=true: only an admin starts it. */
  | 'x-only-manual-start'
  | 'x-restart-if-changed-false'
  | 'x-restartd-action-skip'
  | 'config-skip'
  | 'protected-unit'
  | 'user-session'
  | 'container'
  | 'kernel-thread'
  | 'unit-unknown'
  /** A unit type systemd cannot restart in place (.mount, .swap, .slice, …). */
  | 'unit-type'
  /** A user unit whose user's manager is not running or did not answer: reported, not acted on. */
  | 'user-manager-absent';

/** A decision: a tagged union with a reason (never a bare boolean). */
export type Decision =
  | { action: 'restart'; reason: string }
  | { action: 'reload'; reason: string }
  | { action: 'stop-start'; reason: string }
  | { action: 'notify'; reason: string }
  | { action: 'daemon-reexec'; reason: string }
  | { action: 'reboot-hint'; reason: string }
  | { action: 'skip'; reason: SkipReason; detail?: string };

/** Plan phases, in the order they run. */
export const PHASES = ['stop', 'daemon-reload', 'reload', 'restart', 'start', 'notify'] as const;
export type Phase = (typeof PHASES)[number];

/** What the policy needs to know about a systemd unit (from D-Bus properties and the unit's files). */
export interface UnitFacts {
  name: string;
  /** LoadState and ActiveState, when read from the bus ("loaded", "not-found", "masked"; "active", ...). */
  loadState?: string;
  activeState?: string;
  /** Unit file and drop-ins, as systemd reports them (FragmentPath, DropInPaths). */
  fragmentPath?: string;
  dropInPaths?: string[];
  refuseManualStop?: boolean;
  refuseManualStart?: boolean;
  /** What the manager allows by hand (CanStart, CanStop, CanReload on the bus). */
  canStart?: boolean;
  canStop?: boolean;
  canReload?: boolean;
  /** Units whose stop or restart takes this one along (PartOf=, BindsTo=): who restarts it when it refuses to be. */
  partOf?: string[];
  bindsTo?: string[];
  /** The reverse: units PartOf= or BindsTo= this one (ConsistsOf=, BoundBy=), which its stop takes down. */
  consistsOf?: string[];
  boundBy?: string[];
  /** Units its start pulls in (Wants=, Requires=, Upholds=): started again with it after a stop. */
  pullsIn?: string[];
  /** Socket units that activate this service (TriggeredBy=). */
  triggeredBy?: string[];
  /** NixOS' keys and restartd's own, read from the fragment and drop-ins ([Unit] or [Service]). */
  xRestartIfChanged?: boolean;
  xReloadIfChanged?: boolean;
  xStopIfChanged?: boolean;
  /** NixOS' X-OnlyManualStart=true: never started (so never restarted) by an activation. */
  xOnlyManualStart?: boolean;
  /** NixOS' X-NotSocketActivated=true: its sockets are not its activation; it restarts without them. */
  xNotSocketActivated?: boolean;
  xRestartdAction?: UnitAction;
  /** The unit's files changed in the switch: a daemon-reload must come first. */
  unitFileChanged?: boolean;
}

/**
 * One action of a plan: JSON field names are a contract (`restartd plan --json` `actions`).
 *
 * The systemd job an action stands for follows from `action` and `phase` (see `unitJobOf`):
 * - `restart` (phase restart) → RestartUnit; `reload` (phase reload) → ReloadUnit;
 * - `stop-start` is two actions of the same owner: one in phase `stop` (StopUnit, run before the
 *   daemon-reload so the unit stops with the definition it was started with) and one in phase `start`
 *   (StartUnit, with the new definition). Each phase then maps to exactly one kind of job;
 * - `daemon-reexec` (PID 1, or a user's manager when `userManager` is set) runs in phase
 *   `daemon-reload`, before any restart, so the new manager runs the jobs; `notify` runs in phase `notify`; `skip` and `reboot-hint` have phase `none`.
 */
export interface PlannedAction {
  owner: Owner;
  action: ActionKind;
  /** For `skip`, the SkipReason code (see `detail` for the words); otherwise why this action. */
  reason: string;
  /** For `skip`: the human explanation behind the code. */
  detail?: string;
  /** The stale processes this action is about, ascending. */
  pids: number[];
  phase: Phase | 'none';
  /** The systemd unit to act on (system-unit, user-unit), when there is one. */
  unit?: string;
  /**
   * Set when a user's manager (user@UID.service) runs the job: for a user unit, and for the
   * daemon-reexec of the user manager itself (owner user@UID.service).
   */
  userManager?: { uid: number };
  /**
   * Socket units that change with a socket-activated service: restarted after the service (phase
   * restart), stopped with it (phase stop), started before it (phase start). Sorted. A restart
   * names them only when the socket unit itself must change (its unit file changed, or it is stale
   * itself): otherwise the service restarts alone and systemd keeps its listening sockets.
   */
  sockets?: string[];
  /** What makes the owner stale, in a few words: "holds deleted /usr/lib/libssl.so.3 (+2 more files)". */
  evidence?: string;
  /**
   * A notify that replaced the policy's restart or reload because every stale process of the unit
   * registered as update-aware: the job run when an app answers restart-me, or no answer comes and
   * its fallback is restart.
   */
  fallback?: 'restart' | 'reload';
}

/**
 * Phase `daemon-reload` runs the re-executions first (PID 1, then users' managers), then the
 * daemon-reloads `daemonReload` and `userDaemonReloads` ask for.
 */
export interface Plan {
  /** Whether a daemon-reload of the system manager runs before the restarts (unit files changed). */
  daemonReload: boolean;
  /** Users whose manager needs a daemon-reload (their units' files changed), ascending uids. */
  userDaemonReloads?: number[];
  /** Every owner's action, skips included, in phase order (skips and reboot hints last). */
  actions: PlannedAction[];
}
