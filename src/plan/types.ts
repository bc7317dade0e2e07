import type { Owner } from '../owner/types.js';

/** What restartd does for one owner. See DESIGN.md "Policy -> Action". */
export type ActionKind = 'restart' | 'reload' | 'stop-start' | 'notify' | 'daemon-reexec' | 'skip' | 'reboot-hint';

/** Why an owner is skipped: literal codes, so tools and tests can match them. */
export type SkipReason =
  | 'refuse-manual-stop'
  | 'x-restart-if-changed-false'
  | 'x-restartd-action-skip'
  | 'config-skip'
  | 'protected-unit'
  | 'user-session'
  | 'container'
  | 'kernel-thread'
  | 'unit-unknown';

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
  /** Unit file and drop-ins, as systemd reports them (FragmentPath, DropInPaths). */
  fragmentPath?: string;
  dropInPaths?: string[];
  refuseManualStop?: boolean;
  canReload?: boolean;
  /** Socket units that activate this service (TriggeredBy=). */
  triggeredBy?: string[];
  /** NixOS' keys and restartd's own, read from the fragment and drop-ins ([Unit] or [Service]). */
  xRestartIfChanged?: boolean;
  xReloadIfChanged?: boolean;
  xStopIfChanged?: boolean;
  xRestartdAction?: 'restart' | 'reload' | 'stop-start' | 'notify' | 'skip';
  /** The unit's files changed in the switch: a daemon-reload must come first. */
  unitFileChanged?: boolean;
}

/** One action of a plan: JSON field names are a contract (`restartd plan --json` `actions`). */
export interface PlannedAction {
  owner: Owner;
  action: ActionKind;
  reason: string;
  pids: number[];
  phase: Phase | 'none';
  /** The systemd unit to act on (system-unit, user-unit), when there is one. */
  unit?: string;
  /** Socket units to restart after the service (socket activation). */
  sockets?: string[];
}

export interface Plan {
  /** Whether a daemon-reload runs before the restarts (unit files changed). */
  daemonReload: boolean;
  /** Every owner's action, skips included, in phase order. */
  actions: PlannedAction[];
}
