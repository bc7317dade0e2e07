import type { UnitFacts } from './plan.js';

/** How a systemd job ended: the `result` of its JobRemoved signal. */
export type JobResult =
  | 'done'
  | 'canceled'
  | 'timeout'
  | 'failed'
  | 'dependency'
  | 'skipped'
  | 'invalid'
  | 'assert'
  | 'unsupported'
  | 'collected'
  | 'once';

/** The unit methods that queue a job. */
export type JobMethod = 'RestartUnit' | 'ReloadUnit' | 'StopUnit' | 'StartUnit';

/** A job systemd accepted: its object path is what JobRemoved names. */
export interface Job {
  path: string;
  unit: string;
  method: JobMethod;
  /** performance.now() when the method was called, and when its reply was seen. */
  queuedAt: number;
  repliedAt: number;
}

export interface JobCompletion {
  job: Job;
  result: JobResult;
  /** From the method call to JobRemoved. */
  durationMs: number;
  /** JobRemoved arrived before the method reply was seen (it was buffered). */
  signalBeforeReply: boolean;
}

/** UnitFacts plus what the executor reads of a unit's live state. */
export interface LiveUnitFacts extends UnitFacts {
  /** LoadState: "loaded", "not-found", "masked", ... */
  loadState: string;
  activeState: string;
  /** The manager's PID of the main process (its namespace, not ours); 0 when none. */
  mainPid: number;
  /** The unit's cgroup as the manager names it ("/system.slice/foo.service"). */
  controlGroup?: string;
  /** What could not be read or understood in the unit's files ("FILE:LINE: message"). */
  fileWarnings?: string[];
}

/** What the executor reads of a unit right after its job, and while it settles. */
export interface UnitState {
  /** ActiveState: "active", "failed", "inactive", "activating", ... */
  activeState: string;
  /** SubState: "running", "auto-restart", "exited", "dead", ... */
  subState: string;
  /** The service's Type ("exec", "notify", "oneshot", ...); "" for other unit types. */
  type: string;
  /** The service's Result ("success", "exit-code", "signal", ...); "" for other unit types. */
  result: string;
  /** ExecMainCode (CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3; 0 while it runs) and ExecMainStatus. */
  execMainCode: number;
  execMainStatus: number;
  /** How often systemd restarted the unit by itself (Restart=). */
  nRestarts: number;
  /** The unit's InvocationID in hex ("" when it has none). */
  invocationId: string;
  /** The manager's PID of the main process; 0 when none. */
  mainPid: number;
  /** ExecMainStartTimestampMonotonic: when the main process started (µs, the manager's clock). */
  execMainStartUs: number;
  /** StateChangeTimestampMonotonic: the last change of ActiveState (a reload changes it too). */
  stateChangeUs: number;
  /** The job queued for the unit now, if any (its object path). */
  jobPath?: string;
}

/** Where the manager runs, as seen from here: needed when it lives in other namespaces (a container). */
export interface ManagerProcess {
  /** Its PID in our PID namespace. */
  hostPid: number;
  /** Prefix that reaches the manager's filesystem: "" when it is ours, else "/proc/PID/root". */
  rootPrefix: string;
  /** The cgroup2 path of the manager's tree as we read it in /proc/PID/cgroup ("/" for the host's). */
  cgroupRoot: string;
  /** Index of the manager's PID namespace in an NSpid line; 0 when it is ours. */
  nsLevel: number;
}

/**
 * A connection to one systemd manager. Every PID it takes or returns is the manager's (see
 * `toManagerPid`); unit names are systemd's.
 */
export interface SystemdManager {
  readonly busAddress: string;
  /** Undefined when the manager's process could not be found (e.g. not root): same namespaces assumed. */
  readonly process: ManagerProcess | undefined;
  unitFacts(unit: string): Promise<LiveUnitFacts>;
  /** The unit of a process, by its PID here (translated to the manager's); undefined when none. */
  unitByPid(pid: number): Promise<string | undefined>;
  /** A PID of ours as the manager knows it; undefined when the process is outside its PID namespace. */
  toManagerPid(pid: number): number | undefined;
  /** The unit's live state (see UnitState). */
  unitState(unit: string): Promise<UnitState>;
  resetFailed(unit: string): Promise<void>;
  restart(unit: string): Promise<Job>;
  reload(unit: string): Promise<Job>;
  stop(unit: string): Promise<Job>;
  start(unit: string): Promise<Job>;
  /** Resolves with JobRemoved's result; rejects with SystemdError JOB_TIMEOUT after `timeoutMs`. */
  waitForJob(job: Job, timeoutMs: number): Promise<JobCompletion>;
  /** daemon-reload: systemd answers once the reload is complete. */
  daemonReload(): Promise<void>;
  /** daemon-reexec: resolves once the new manager answers on the bus again. */
  reexecute(timeoutMs?: number): Promise<void>;
  /** After the connection was lost: a fresh one (bounded retries; throws RestartdError BUS); a no-op while it is up. */
  reconnect(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A desktop notification (org.freedesktop.Notifications.Notify), bounded by `timeoutMs`. */
export interface DesktopNotification {
  appName: string;
  summary: string;
  body: string;
  timeoutMs: number;
}

/** A user's manager, reached by a child acting as the user: it also reaches the user's session bus. */
export interface UserSystemdManager extends SystemdManager {
  /** Sends a notification on the user's session bus; resolves with the server's id for it. */
  notify(notification: DesktopNotification): Promise<number>;
}

/** A user's systemd manager as restartd reaches it: through a child acting as that user. */
export type UserManagerState =
  | { state: 'running'; uid: number; name: string; manager: UserSystemdManager }
  /** Not running (no runtime dir, no bus), no such user, or it did not answer: reported, never failed. */
  | { state: 'absent'; uid: number; name?: string; reason: string };

/** Users' managers, each reached once per run by its own child; `close` ends every child. */
export interface UserManagers {
  get(uid: number): Promise<UserManagerState>;
  close(): void;
}

/** A user's manager as a report shows it: reached (running) or not, and why not. */
export interface UserManagerSummary {
  uid: number;
  name?: string;
  manager: 'running' | 'absent';
  reason?: string;
}
