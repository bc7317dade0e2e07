import type { StaleKind } from '../match/types.js';
import type { Owner } from '../owner/types.js';
import type { ActionKind, Phase, Plan, PlannedAction } from '../plan/types.js';
import type { Job, JobResult } from '../systemd/types.js';
// update-aware (issue 4): notify outcomes and events
import type { Notifier } from '../aware/notifier.js';
import type { AwareEvents, NotifyResult } from '../aware/types.js';

/** Why an outcome is not ok: literal codes, so tools and tests can match them. */
export type OutcomeCode =
  /** systemd ran the job and it did not end "done" (see jobResult). */
  | 'JOB_FAILED'
  /** No JobRemoved within the job timeout: the job may still run. */
  | 'JOB_TIMEOUT'
  /** The bus failed, or systemd refused the call (no such unit, access denied, ...). */
  | 'BUS'
  | 'SYSTEMD'
  /** The service's job was done, but restarting (or starting, stopping) one of its sockets was not. */
  | 'SOCKET_FAILED'
  /** The verify re-scan found the unit's new processes still holding old files. */
  | 'STILL_STALE'
  /** The processes did not register as update-aware (or no notifier was given): they were left as they are. */
  | 'NOTIFY_UNAVAILABLE'
  /** An update-aware app was not told: no answer, a bad answer, or the socket failed (its fallback is none). */
  | 'NOTIFY_FAILED'
  /** An update-aware app asked to be restarted, or its fallback is restart: its owner must be restarted. */
  | 'RESTART_NEEDED'
  /** Jobs of a user's manager (user@UID.service) are not supported yet. */
  | 'USER_MANAGER_UNAVAILABLE';

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
  /** Tells registered update-aware processes in the notify phase (createNotifier); without it notify stays NOTIFY_UNAVAILABLE. */
  notifier?: Notifier;
}

/** Typed events of applySwitch, executePlan and verifyOutcomes, in the order they happen. */
export interface ExecuteEvents extends AwareEvents {
  /** Something was left out or could not be read; the run goes on. */
  warning: [message: string];
  'plan:built': [plan: Plan];
  'phase:start': [phase: Phase];
  'action:start': [action: PlannedAction];
  'job:queued': [job: Job];
  'manager:done': [step: ManagerStep];
  'action:done': [outcome: Outcome];
  'verify:start': [units: string[]];
  'verify:done': [outcome: Outcome];
}
