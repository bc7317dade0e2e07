import type { StaleKind } from './stale.js';
import type { Owner } from './owner.js';
import type { ActionKind, Phase, Plan, PlannedAction } from './plan.js';
import type { Job, JobMethod, JobResult, UserManagers } from './systemd.js';
// update-aware: notify outcomes and events
import type { AwareEvents, NotifyResult } from './aware.js';
import type { RollbackIntent, RolledBack } from './rollback.js';
import type { FleetHeld } from './fleet.js';

/** Tells the registered update-aware processes of a notify action (src/aware createNotifier); undefined: nobody registered. */
export type Notifier = (action: PlannedAction) => Promise<Outcome | undefined>;

/** Why an outcome is not ok: literal codes, so tools and tests can match them. */
export type OutcomeCode =
  /** systemd ran the job and it did not end "done" (see jobResult). */
  | 'JOB_FAILED'
  /** No JobRemoved within the job timeout: the job may still run. */
  | 'JOB_TIMEOUT'
  /** The bus was lost while a job was in flight, and a fresh connection could not tell what became of it. */
  | 'BUS_LOST'
  /** The bus failed, or systemd refused the call (no such unit, access denied, ...). */
  | 'BUS'
  | 'SYSTEMD'
  /** The service's job was done, but restarting (or starting, stopping) one of its sockets was not. */
  | 'SOCKET_FAILED'
  /** The job was done, but the unit did not stay active for the settle time (failed, inactive, or restarted by systemd in a loop). */
  | 'UNIT_FAILED'
  /** The verify re-scan found the unit's new processes still holding old files. */
  | 'STILL_STALE'
  /** The processes did not register as update-aware (or no notifier was given): they were left as they are. */
  | 'NOTIFY_UNAVAILABLE'
  /** An update-aware app was not told: no answer, a bad answer, or the socket failed (its fallback is none). */
  | 'NOTIFY_FAILED'
  /** An update-aware app asked to be restarted, or its fallback is restart: its owner must be restarted. */
  | 'RESTART_NEEDED'
  /** The user's manager (user@UID.service) that runs the job could not be reached. */
  | 'USER_MANAGER_UNAVAILABLE'
  /** fleet: no slot of the action's group could be had (etcd unreachable, or the wait ran out): nothing was run. */
  | 'FLEET_UNAVAILABLE'
  /** fleet: another host rolled this new generation back: the run stopped before this action, nothing was run. */
  | 'FLEET_HELD';

/** What an outcome's jobResult says when no systemd job gave it one. */
export type NoJobResult = 'not-run' | 'unknown';

/** One process of a unit that the verify re-scan found still holding old files. */
export interface StillStaleProcess {
  pid: number;
  files: { path: string; kind: StaleKind }[];
}

/**
 * What happened to one planned action. Results and failures share this shape: a failure has
 * `ok: false`, a `code` and a `cause`.
 */
export interface Outcome {
  /** The unit acted on, or the owner's name when there is no unit ("pid:42", "init"). */
  unit: string;
  owner: Owner;
  action: ActionKind;
  phase: Phase | 'none';
  /** The plan's reason (for a skip, its code), and for a skip the words behind the code. */
  reason: string;
  detail?: string;
  ok: boolean;
  jobResult: JobResult | NoJobResult;
  durationMs: number;
  /** The stale processes the action was about (our PIDs). */
  pids: number[];
  /** Nothing was executed: the outcome says what would have been done. */
  dryRun?: true;
  /** The unit's MainPID (the manager's numbering) before and after the job. */
  mainPid?: { before: number; after: number };
  /** The socket units handled with the service, and their jobs' results. */
  sockets?: { unit: string; jobResult: JobResult | NoJobResult }[];
  code?: OutcomeCode;
  cause?: string;
  /** UNIT_FAILED: the first lines the unit logged since its job was queued (when its journal is readable). */
  journal?: string[];
  /** Set by verify: processes of the unit that still hold old files after the action. */
  stillStale?: StillStaleProcess[];
  /** notify: what each registered update-aware process was told and answered. */
  notified?: NotifyResult[];
}

/** The daemon-reload (or daemon-reexec) step between stopping and restarting. */
export interface ManagerStep {
  step: 'daemon-reload' | 'daemon-reexec';
  /** A user's manager (plan.userDaemonReloads); absent for the system manager. */
  uid?: number;
  ok: boolean;
  durationMs: number;
  dryRun?: true;
  cause?: string;
}

export interface ExecutionReport {
  outcomes: Outcome[];
  /** Present when the plan asked for a daemon-reload (or PID 1 was re-executed). */
  managerSteps: ManagerStep[];
  durationMs: number;
}

export interface ExecuteOptions {
  /** Execute nothing; every outcome says what would be done. */
  dryRun: boolean;
  /** Jobs in flight at once within a phase. */
  concurrency: number;
  /** How long to wait for one job's JobRemoved. */
  jobTimeoutMs: number;
  /** How long a (re)started or reloaded unit must stay active after its job (default 2000). */
  settleMs?: number;
  /** Tells registered update-aware processes in the notify phase (createNotifier); without it notify stays NOTIFY_UNAVAILABLE. */
  notifier?: Notifier;
  /** Submitted jobs written down before each call, and those of an interrupted run (src/journal). */
  jobJournal?: JobJournal;
  /** fleet: a slot of the action's group is held around each restart, reload and stop-start (src/fleet). */
  fleet?: FleetGate;
  /** Users' own managers, for user units' jobs and their managers' reloads; without it those stay USER_MANAGER_UNAVAILABLE. */
  userManagers?: UserManagers;
}

/** Who holds a fleet slot, as the holder wrote it into etcd. */
export interface FleetHolder {
  host: string;
  slot: number;
  unit: string;
  since: string;
}

/** A fleet slot held by this run; `release` never throws (an unreachable etcd lets the lease expire). */
export interface FleetHold {
  group: string;
  /** The slot's number, 0 to K-1 (-1: no slot needed, as with no --fleet but a delay). */
  slot: number;
  waitedMs: number;
  /** Kept until the switch's verdict (rollback armed, see FleetGate.beginSwitch): `release` lets go of nothing. */
  kept?: boolean;
  release(): Promise<void>;
}

/**
 * Coordinates restarts across hosts (src/fleet). The executor holds a slot of an action's group
 * from just before its job until the job is done (for a stop-start: from the stop until the start
 * is done). Dry runs, notify, skips, reboot hints and PID 1's re-exec never take slots.
 */
export interface FleetGate {
  /** The group whose slots an action's unit shares (its unit name unless the config groups it). */
  groupOf(action: PlannedAction): string;
  /**
   * Waits for a slot of `group` (and, once per run, the configured delay with jitter). `onWait`
   * is called with the holders when the slots are all taken. Throws when no slot can be had.
   */
  acquire(group: string, action: PlannedAction, onWait: (holders: FleetHolder[]) => void, onDelay: (ms: number) => void): Promise<FleetHold>;
  /**
   * The switch a run carries out next (with --fleet and generations): a slot taken is checked for
   * a rollback of `new` by another host; with `keepSlots` (rollback armed) slots are kept until
   * `releaseKept`, so the next host starts only once this one's verdict is known.
   */
  beginSwitch?(rollout: { old: string; new: string; keepSlots: boolean }): void;
  /** A rollback of the current switch's new generation by another host, in any of `groups` (asks etcd). */
  checkHold?(groups: readonly string[]): Promise<FleetHeld | undefined>;
  /** The hold found so far by this run (checkHold, or a slot taken): the run stops. */
  held?(): FleetHeld | undefined;
  /** Records this host's rollback of the current switch in each of `groups`; never throws (a warning). */
  recordRollback?(groups: readonly string[], reason: string): Promise<void>;
  /** Lets go of the slots kept for the current switch (see beginSwitch). */
  releaseKept?(): Promise<void>;
}

/** What a unit looked like right before a job was submitted for it: a resumed run compares it with now. */
export interface JobSubmission {
  unit: string;
  method: JobMethod;
  invocationId: string;
  mainPid: number;
  execMainStartUs: number;
  stateChangeUs: number;
  /** When it was recorded (ISO). */
  at: string;
  /** The job's object path, once systemd answered. */
  jobPath?: string;
}

/**
 * Where the executor writes each job down before submitting it, and finds those an interrupted run
 * of the same switch submitted (src/journal): such a job is waited for or judged by the facts, never
 * submitted twice. Writes are synchronous: on disk before the call to systemd.
 */
export interface JobJournal {
  submitting(action: PlannedAction, submission: JobSubmission): void;
  submitted(action: PlannedAction, submission: JobSubmission & { jobPath: string }): void;
  /** The submission an interrupted run recorded for this action and never saw the end of. */
  interrupted(action: PlannedAction): JobSubmission | undefined;
}

/** Typed events of applySwitch, executePlan and verifyOutcomes, in the order they happen. */
export interface ExecuteEvents extends AwareEvents {
  /** Something was left out or could not be read; the run goes on. */
  warning: [message: string];
  'plan:built': [plan: Plan];
  'phase:start': [phase: Phase];
  'action:start': [action: PlannedAction];
  /** A job is written down in the journal and about to be submitted. */
  'job:submitting': [action: PlannedAction, method: JobMethod];
  'job:queued': [job: Job];
  /** The job is queued and its object path written down in the journal. */
  'job:submitted': [action: PlannedAction, job: Job];
  'manager:done': [step: ManagerStep];
  'action:done': [outcome: Outcome];
  'verify:start': [units: string[]];
  /** fleet: before the first restart of the run, the configured delay with jitter. */
  'fleet:delay': [ms: number];
  /** fleet: every slot of the group is held by other hosts; this action waits (holders as etcd says). */
  'fleet:waiting': [group: string, action: PlannedAction, holders: FleetHolder[]];
  'fleet:acquired': [group: string, action: PlannedAction, hold: FleetHold];
  'fleet:released': [group: string, action: PlannedAction, hold: FleetHold];
  'verify:done': [outcome: Outcome];
  /** rollback: restarts onto the new generation failed; the link goes back (recorded before it is flipped). */
  'rollback:begun': [intent: RollbackIntent];
  /**
   * rollback: the link points at the old generation (`target`) again, or the rollback command
   * succeeded (`link` is then its argv, joined by spaces); its units restart next.
   */
  'rollback:flipped': [link: string, target: string, intent: RollbackIntent];
  'rollback:done': [rolledBack: RolledBack];
}

/** The `detail` of an outcome that an earlier, interrupted run of the same switch already achieved (src/journal). */
export const ALREADY_DONE = 'already done';

/** The `detail` of an outcome whose job an interrupted run submitted: the facts say it ran (or it was waited for). */
export const DONE_BY_INTERRUPTED_RUN = 'done by an interrupted run';

/** Whether an outcome stands for an action skipped because the journal says it was done. */
export function isAlreadyDone(outcome: Outcome): boolean {
  return outcome.detail === ALREADY_DONE && outcome.jobResult === 'not-run' && outcome.phase !== 'none';
}

/** The outcome fields that come straight from the plan. */
export function planned(action: PlannedAction): Pick<Outcome, 'unit' | 'owner' | 'action' | 'phase' | 'reason' | 'detail' | 'pids'> {
  return {
    unit: action.unit ?? action.owner.name,
    owner: action.owner,
    action: action.action,
    phase: action.phase,
    reason: action.reason,
    ...(action.detail === undefined ? {} : { detail: action.detail }),
    pids: action.pids,
  };
}
