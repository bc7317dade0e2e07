import type { Registration } from '../types/registration-schema.js';
import type { ProcIdentity, TrustVerdict } from '../types/aware.js';

/**
 * Whether a registration may be acted on for the process now at its pid: not PID 1, not a kernel
 * thread, the same start time (PID reuse), and the file owned by root or by the user the process
 * runs as (every one of its uids, so a setuid program is not another user's to register). Pure.
 */
export function judgeTarget(registration: Registration, fileUid: number, target: ProcIdentity | undefined): TrustVerdict {
  const { pid } = registration;
  if (pid === 1) return reject('pid1', 'restartd never signals PID 1 for a registration');
  if (target === undefined) return reject('process-gone', `pid ${pid} is gone`);
  if (target.kernelThread) return reject('kernel-thread', `pid ${pid} is a kernel thread`);
  if (target.startTime !== registration.startTime) {
    return reject('pid-reused', `pid ${pid} started at ${target.startTime}, the registration names start time ${registration.startTime}`);
  }
  if (fileUid !== 0 && target.uids.some((uid) => uid !== fileUid)) {
    return reject('other-user', `the registration is owned by uid ${fileUid}, pid ${pid} runs as uid ${target.uids.join('/')}`);
  }
  return { trusted: true };
}

/**
 * Whether restartd may connect to the socket a registration names: a socket (not a link) owned by the
 * registration's owner, or for a root-owned registration by the process's user. Never someone else's
 * socket (a user pointing restartd at root's docker.sock gets nothing). Pure.
 */
export function judgeSocket(socket: { isSocket: boolean; uid: number }, fileUid: number, target: ProcIdentity): TrustVerdict {
  if (!socket.isSocket) return reject('untrusted-socket', 'the notify path is not a socket (or is a link)');
  const allowed = socket.uid === fileUid || (fileUid === 0 && target.uids.every((uid) => uid === socket.uid));
  if (!allowed) return reject('untrusted-socket', `the socket is owned by uid ${socket.uid}, not by the registration's or the process's user`);
  return { trusted: true };
}

/** Who answers on a connected Unix socket, as SO_PEERCRED tells it: the listener's pid, uid and gid. */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * Whether restartd may write to the socket it connected to: the answering process (SO_PEERCRED) is the
 * registered process itself (pid and start time), or the socket was made by a process of the
 * registered process's user (an app whose socket a helper of its own serves). Another user's socket,
 * swapped in after the checks, is neither. `peerStartTime` is the peer pid's start time now. Pure.
 */
export function judgePeer(peer: PeerCred, party: { pid: number; startTime: number; peerUid: number }, peerStartTime: number | undefined): TrustVerdict {
  if (peer.pid === party.pid && peerStartTime === party.startTime) return { trusted: true };
  if (peer.uid === party.peerUid) return { trusted: true };
  return reject('untrusted-peer', `the process answering (pid ${peer.pid}, uid ${peer.uid}) is neither pid ${party.pid} nor a process of uid ${party.peerUid}`);
}

/** Whether the registration wants to hear about these stale files (its `paths` filter). Pure. */
export function concerns(registration: Registration, files: readonly string[]): boolean {
  const filters = registration.paths;
  if (filters === undefined || filters.length === 0) return true;
  return files.some((file) => filters.some((dir) => file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`)));
}

function reject(reason: Extract<TrustVerdict, { trusted: false }>['reason'], detail: string): TrustVerdict {
  return { trusted: false, reason, detail };
}
