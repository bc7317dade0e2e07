import type { Answer, AnswerKind, Registration } from './registration-schema.js';

/** A registration file that passed the file checks and the schema. */
export interface LoadedRegistration {
  /** The file it was read from. */
  file: string;
  /** Owner of the file (fstat of the descriptor read). */
  fileUid: number;
  registration: Registration;
}

/** Who a process runs as, and whether it is still the one a registration names. */
export interface ProcIdentity {
  pid: number;
  startTime: number;
  /** Real, effective, saved and filesystem uid (/proc/PID/status "Uid:"). */
  uids: number[];
  /** Real, effective, saved and filesystem gid (/proc/PID/status "Gid:"), when read. */
  gids?: number[];
  /** Supplementary groups (/proc/PID/status "Groups:"), when read. */
  groups?: number[];
  kernelThread: boolean;
}

/** Why a registration is not honoured for a process: literal codes. */
export type RejectReason =
  /** The process is gone. */
  | 'process-gone'
  /** The pid now belongs to another process (start time differs). */
  | 'pid-reused'
  | 'pid1'
  | 'kernel-thread'
  /** The file's owner is neither root nor the process's user. */
  | 'other-user'
  /** The socket is not a socket, or not owned by the process's user (or root). */
  | 'untrusted-socket'
  /** The process answering on the socket (SO_PEERCRED) is neither the registered one nor its user's. */
  | 'untrusted-peer';

export type TrustVerdict = { trusted: true } | { trusted: false; reason: RejectReason; detail: string };

/** What became of telling one registered process. */
export type NotifyResultKind =
  /** The app answered on its socket. */
  | AnswerKind
  /** The signal was sent (a signal has no answer). */
  | 'signalled'
  /** No answer within ackTimeoutMs. */
  | 'timeout'
  /** Could not deliver, or the answer was oversized or malformed. */
  | 'failed'
  /** Not told: the registration was not honoured right before acting (see reason). */
  | 'rejected'
  /** The registration's paths filter matched none of the stale files. */
  | 'not-concerned';

export interface NotifyResult {
  pid: number;
  name: string;
  file: string;
  via: 'signal' | 'socket';
  result: NotifyResultKind;
  /** Set when the fallback applied (timeout, restart-me, failed). */
  fallback?: 'restart' | 'none';
  /** The owner must be restarted for this process to pick up the new files. */
  restartNeeded: boolean;
  reason?: string;
  answer?: Answer;
  /** How a signal was sent: `pidfd` (identity check and signal about one process) or `kill` (no pidfd: checked right before). */
  signalVia?: 'pidfd' | 'kill';
  durationMs: number;
}

/** One registered app, for the events. */
export interface NotifyTarget {
  pid: number;
  name: string;
  file: string;
}

/** Typed events of the coordinator, in the order they happen. */
export interface AwareEvents {
  /** Something the run should say: a refused peer, a signal sent without a pidfd. */
  warning: [message: string];
  /** A registration file was skipped (unreadable, malformed, untrusted): the file and why. */
  'aware:skipped': [file: string, reason: string];
  'aware:delivered': [target: NotifyTarget, via: 'signal' | 'socket'];
  'aware:answered': [target: NotifyTarget, answer: Answer];
  'aware:timeout': [target: NotifyTarget];
  'aware:fallback': [target: NotifyTarget, fallback: 'restart' | 'none', because: string];
  'aware:done': [result: NotifyResult];
  /** A user was told about their stale programs that restartd leaves running (once per switch; a run on the live scan: once per process). */
  'user:notified': [notice: UserNotice];
}

/** Where a user is told: a desktop notification on their session bus, a line on their terminals. */
export type NotifyChannel = 'desktop' | 'terminal';

/** What a user was told, and where (a package manager's UI may show `text` instead). */
export interface UserNotice {
  uid: number;
  name?: string;
  text: string;
  /** The channels it reached (empty: none did, or the config turned them off; the event is the notice then). */
  channels: NotifyChannel[];
  /** The stale processes the notice is about. */
  pids: number[];
  /** The terminals written to (`mesg n` ones are left out). */
  terminals: string[];
}

/** What a user was last told, as the switch's journal has it (`restartd status` `users[].notified`). */
export interface UserNotified {
  at: string;
  channels: NotifyChannel[];
  /** The switch it was told for (`live` for a run on the live scan). */
  old: string;
  new: string;
  text: string;
}

/** What restartd remembers about a registration between runs (one state file each). */
export interface RegistrationState {
  file: string;
  lastNotification?: { at: string; oldGeneration: string | null; newGeneration: string | null; files: number };
  lastAnswer?: { at: string; result: NotifyResultKind; reason?: string };
}

/** One registration as `restartd status` lists it. */
export interface RegistrationStatus {
  file: string;
  /** From the file, when it parsed. */
  name?: string;
  pid?: number;
  via?: 'signal' | 'socket';
  /** Passed the file checks and the schema. */
  valid: boolean;
  /** Why not valid, or why not honoured (names the field or the check). */
  problem?: string;
  /** The process it names runs, with the same start time. */
  alive: boolean;
  lastNotification?: RegistrationState['lastNotification'];
  lastAnswer?: RegistrationState['lastAnswer'];
}

/** Where the coordinator reports: any emitter whose events include AwareEvents (ExecuteEvents does). */
export interface AwareEmitter {
  emit<K extends keyof AwareEvents>(event: K, ...args: AwareEvents[K]): boolean;
}
